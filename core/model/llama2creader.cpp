// llama2.c legacy ("version 0") checkpoints (formats.md §1): a 28-byte header, then fp32 arrays
// in a fixed order. Tensors are named with their Hugging Face names; q/k stay in Meta's
// interleaved order, which the architecture records as RopeLayout::Interleaved.
#include "checkpointreaders.h"

#include "common/bytecursor.h"
#include "common/checkedmath.h"
#include "common/formaterror.h"
#include "common/limits.h"
#include "common/mappedfile.h"
#include "modelhandle.h"
#include "tensornames.h"
#include "text/llama2cvocab.h"

#include <filesystem>

namespace blockscope {

namespace fs = std::filesystem;

namespace {

std::string findTokenizerBeside(const std::string &modelPath)
{
    const fs::path dir = fs::path(modelPath).parent_path();
    std::error_code ec;
    if (fs::exists(dir / "tokenizer.bin", ec))
        return (dir / "tokenizer.bin").string();
    // llama2.c's tiny models ship "tok<vocab>.bin" beside them; take it only when it is unique.
    std::string found;
    int count = 0;
    for (const auto &e : fs::directory_iterator(dir.empty() ? fs::path(".") : dir, ec)) {
        const auto name = e.path().filename().string();
        if (name.rfind("tok", 0) == 0 && e.path().extension() == ".bin" && e.path() != fs::path(modelPath)) {
            found = e.path().string();
            ++count;
        }
    }
    return count == 1 ? found : std::string();
}

} // namespace

std::shared_ptr<const ModelHandle> readLlama2c(const std::string &path, const std::string &tokenizerPath)
{
    auto file = MappedFile::open(path);
    ByteCursor cur(file->bytes(), path);
    if (file->size() >= 4) {
        std::uint32_t magic;
        std::memcpy(&magic, file->data(), 4);
        if (magic == 0x616b3432) {
            cur.skip(4, "magic");
            const auto version = cur.read<std::int32_t>("version");
            throw FormatError(path, 4, "version",
                "llama2.c export version " + std::to_string(version)
                    + " is not supported (only the legacy version 0 layout is)");
        }
    }
    const char *fields[7] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
    std::int32_t h[7];
    for (int i = 0; i < 7; ++i)
        h[i] = cur.read<std::int32_t>(fields[i]);
    for (int i = 0; i < 7; ++i) {
        if (i == 5 ? h[i] == 0 : h[i] <= 0)
            throw FormatError(path, 4 * i, fields[i], "value " + std::to_string(h[i]) + " is not allowed");
    }
    const SanityCaps &caps = defaultCaps();
    const std::int64_t dim = h[0], hidden = h[1], L = h[2], H = h[3], Hkv = h[4], seq = h[6];
    const bool shared = h[5] > 0;
    const std::int64_t V = shared ? h[5] : -static_cast<std::int64_t>(h[5]);
    struct Cap
    {
        int field;
        std::int64_t value, cap;
    } checks[] = {{0, dim, caps.maxHidden}, {1, hidden, caps.maxFfn}, {2, L, caps.maxLayers}, {3, H, caps.maxHeads},
        {4, Hkv, caps.maxHeads}, {5, V, caps.maxVocab}, {6, seq, caps.maxContext}};
    for (const auto &c : checks)
        if (c.value > c.cap)
            throw FormatError(path, 4 * c.field, fields[c.field],
                "value " + std::to_string(c.value) + " exceeds the cap " + std::to_string(c.cap));
    if (dim % H != 0)
        throw FormatError(path, 0, "dim", std::to_string(dim) + " is not divisible by n_heads " + std::to_string(H));
    if (H % Hkv != 0)
        throw FormatError(
            path, 16, "n_kv_heads", std::to_string(Hkv) + " does not divide n_heads " + std::to_string(H));
    const std::int64_t hs = dim / H, kvDim = Hkv * hs;
    if (hs % 2 != 0)
        throw FormatError(path, 12, "n_heads", "head size " + std::to_string(hs) + " is odd; RoPE rotates pairs");

    // Expected size, with every product checked (dim = 2^30 must not wrap around).
    auto mul = [&](std::initializer_list<std::uint64_t> xs) {
        std::uint64_t r = 1;
        for (auto x : xs) {
            auto p = checkedMul(r, x);
            if (!p)
                throw FormatError(path, 0, "header", "the tensor sizes it implies overflow 64 bits");
            r = *p;
        }
        return r;
    };
    auto add = [&](std::uint64_t a, std::uint64_t b) {
        auto s = checkedAdd(a, b);
        if (!s)
            throw FormatError(path, 0, "header", "the tensor sizes it implies overflow 64 bits");
        return *s;
    };
    const std::uint64_t d = dim, ff = hidden, l = L, kv = kvDim, v = V;
    std::uint64_t perLayer = add(add(mul({2, d}), mul({2, d, d})), add(mul({2, kv, d}), mul({3, d, ff})));
    std::uint64_t floats = add(add(mul({v, d}), mul({l, perLayer})),
        add(d, mul({static_cast<std::uint64_t>(seq), static_cast<std::uint64_t>(hs)})));
    if (!shared)
        floats = add(floats, mul({v, d}));
    const std::uint64_t expected = add(28, mul({4, floats}));
    if (file->size() != expected)
        throw FormatError(path, file->size() < expected ? file->size() : expected, "file size",
            std::to_string(file->size()) + " bytes, but the header implies " + std::to_string(expected)
                + (file->size() < expected ? " (file truncated?)" : " (trailing bytes)"));

    ModelHandle::Contents c;
    c.path = path;
    c.format = CheckpointFormat::Llama2c;
    c.files.push_back(file);
    Architecture &a = c.architecture;
    a.family = "llama";
    a.layers = L;
    a.hidden = dim;
    a.intermediate = hidden;
    a.heads = H;
    a.kvHeads = Hkv;
    a.headDim = hs;
    a.vocab = V;
    a.context = seq;
    a.rmsNormEps = 1e-5;
    a.ropeTheta = 10000.0;
    a.ropeLayout = RopeLayout::Interleaved;
    a.tiedEmbeddings = shared;
    a.bosTokenIds = {1};
    a.eosTokenIds = {2};

    std::uint64_t offset = 28;
    auto addTensor = [&](const std::string &name, const std::string &source, std::vector<std::int64_t> shape) {
        TensorInfo t;
        t.name = name;
        t.sourceName = source;
        t.shape = std::move(shape);
        t.dtype = DType::F32;
        t.storageType = "F32";
        t.bytes = 4 * t.elementCount();
        t.offset = offset;
        offset += t.bytes;
        c.tensors.push_back(std::move(t));
    };
    auto perLayerTensor = [&](const std::string &hfSuffix, const std::string &source, std::vector<std::int64_t> shape) {
        for (int i = 0; i < L; ++i)
            addTensor(layerPrefix(i) + hfSuffix, source + "[" + std::to_string(i) + "]", shape);
    };
    addTensor("model.embed_tokens.weight", "token_embedding_table", {V, dim});
    perLayerTensor("input_layernorm.weight", "rms_att_weight", {dim});
    perLayerTensor("self_attn.q_proj.weight", "wq", {dim, dim});
    perLayerTensor("self_attn.k_proj.weight", "wk", {kvDim, dim});
    perLayerTensor("self_attn.v_proj.weight", "wv", {kvDim, dim});
    perLayerTensor("self_attn.o_proj.weight", "wo", {dim, dim});
    perLayerTensor("post_attention_layernorm.weight", "rms_ffn_weight", {dim});
    perLayerTensor("mlp.gate_proj.weight", "w1", {hidden, dim});
    perLayerTensor("mlp.down_proj.weight", "w2", {dim, hidden});
    perLayerTensor("mlp.up_proj.weight", "w3", {hidden, dim});
    addTensor("model.norm.weight", "rms_final_weight", {dim});
    offset += 4ull * seq * hs; // freq_cis_real and freq_cis_imag: RoPE tables, recomputed instead
    if (!shared)
        addTensor("lm_head.weight", "wcls", {V, dim});

    const std::string tok = tokenizerPath.empty() ? findTokenizerBeside(path) : tokenizerPath;
    if (!tok.empty()) {
        const Llama2cVocab vocab = Llama2cVocab::load(tok, V);
        c.tokenizer = TokenizerSummary{"llama2c", tok, static_cast<std::int64_t>(vocab.pieces.size())};
        for (const auto &w : vocab.warnings)
            c.warnings.push_back(w);
    } else {
        c.warnings.push_back("no tokenizer.bin found beside the model; text features need one");
    }
    return ModelHandle::fromContents(std::move(c));
}

} // namespace blockscope
