// Opening a checkpoint reads metadata only: the time and memory to open must not grow with the
// size of the weights. Writes two checkpoints with real headers and the same tensor count, one
// tiny and one of Llama-7B shape (several GB of zeros, written as a sparse file), opens each
// repeatedly and prints medians and the ratio large/small.
#include "model/checkpointexport.h"
#include "model/modelhandle.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

using namespace blockscope;
namespace fs = std::filesystem;

namespace {

// A Hugging Face folder whose model.safetensors has a real header and zero-filled (sparse) data.
std::uint64_t writeSparseModel(const fs::path &dir, const Architecture &a)
{
    fs::create_directories(dir);
    std::ofstream(dir / "config.json") << hfConfigJson(a);
    nlohmann::ordered_json header;
    std::uint64_t offset = 0;
    auto add = [&](const std::string &name, std::vector<std::int64_t> shape) {
        std::uint64_t n = 2;
        for (auto s : shape)
            n *= static_cast<std::uint64_t>(s);
        header[name] = {{"dtype", "BF16"}, {"shape", shape}, {"data_offsets", {offset, offset + n}}};
        offset += n;
    };
    const std::int64_t d = a.hidden, ff = a.intermediate, kv = a.kvHeads * a.headDim;
    add("model.embed_tokens.weight", {a.vocab, d});
    for (int l = 0; l < a.layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        add(p + "input_layernorm.weight", {d});
        add(p + "self_attn.q_proj.weight", {d, d});
        add(p + "self_attn.k_proj.weight", {kv, d});
        add(p + "self_attn.v_proj.weight", {kv, d});
        add(p + "self_attn.o_proj.weight", {d, d});
        add(p + "post_attention_layernorm.weight", {d});
        add(p + "mlp.gate_proj.weight", {ff, d});
        add(p + "mlp.up_proj.weight", {ff, d});
        add(p + "mlp.down_proj.weight", {d, ff});
    }
    add("model.norm.weight", {d});
    add("lm_head.weight", {a.vocab, d});
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    const std::uint64_t n = text.size();
    const fs::path file = dir / "model.safetensors";
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char *>(&n), 8);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
    }
    fs::resize_file(file, 8 + n + offset); // the zeros are a hole: no disk space, no write time
    return 8 + n + offset;
}

long maxRssKiB()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

struct Measure
{
    double medianMs;
    double minMs;
    double maxMs;
};

Measure timeOpen(const fs::path &dir, int runs)
{
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        auto m = ModelHandle::open(dir.string());
        const auto t1 = std::chrono::steady_clock::now();
        if (m->tensors().empty())
            std::abort();
        ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return {ms[ms.size() / 2], ms.front(), ms.back()};
}

} // namespace

int main(int argc, char **argv)
{
    const fs::path root = argc > 1 ? fs::path(argv[1]) : fs::temp_directory_path() / "blockscope-bench-open";
    const int runs = argc > 2 ? std::atoi(argv[2]) : 21;
    Architecture big;
    big.family = "llama";
    big.layers = 32;
    big.hidden = 4096;
    big.intermediate = 11008;
    big.heads = 32;
    big.kvHeads = 32;
    big.headDim = 128;
    big.vocab = 32000;
    big.context = 4096;
    Architecture small = big; // same tensor count and header size, tiny tensors
    small.hidden = 64;
    small.intermediate = 172;
    small.heads = 8;
    small.kvHeads = 8;
    small.headDim = 8;
    small.vocab = 512;

    const auto smallBytes = writeSparseModel(root / "small", small);
    const auto bigBytes = writeSparseModel(root / "large", big);
    std::printf("checkpoint sizes: small %.2f MB, large %.2f GB (%zu tensors each)\n", smallBytes / 1e6, bigBytes / 1e9,
        static_cast<std::size_t>(2 + 9 * 32 + 1));

    timeOpen(root / "small", 3); // warm the page cache for the headers
    const long rss0 = maxRssKiB();
    const Measure s = timeOpen(root / "small", runs);
    const long rss1 = maxRssKiB();
    const Measure l = timeOpen(root / "large", runs);
    const long rss2 = maxRssKiB();
    std::printf("open small: median %.3f ms (min %.3f, max %.3f), peak RSS growth %ld KiB\n", s.medianMs, s.minMs,
        s.maxMs, rss1 - rss0);
    std::printf("open large: median %.3f ms (min %.3f, max %.3f), peak RSS growth %ld KiB\n", l.medianMs, l.minMs,
        l.maxMs, rss2 - rss1);
    std::printf(
        "ratio large/small: time %.2fx for %.0fx the bytes\n", l.medianMs / s.medianMs, double(bigBytes) / smallBytes);
    fs::remove_all(root);
    return 0;
}
