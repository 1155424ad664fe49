// Prints the calibration windows a search on MODEL and TEXT uses under a protocol, as JSON (token
// ids per window), so that another implementation scores exactly the same tokens
// (tests/bench/bench_prune_vs_hf.sh).
//
//   dump_windows MODEL TEXT PROTOCOL CONTEXT WINDOWS
#include "eval/runsetup.h"
#include "model/modelhandle.h"
#include "text/tokenizer.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>

using namespace blockscope;

int main(int argc, char **argv)
{
    if (argc != 6) {
        std::fprintf(stderr, "usage: dump_windows MODEL TEXT PROTOCOL CONTEXT WINDOWS\n");
        return 2;
    }
    try {
        const auto model = ModelHandle::open(argv[1]);
        const auto tokenizer = loadTokenizerFor(*model);
        const Protocol protocol = resolveProtocol(argv[3], std::atoll(argv[4]), 0, model->architecture().context);
        const WindowSet set = windowsForText(argv[2], *tokenizer, protocol, TextPool::Calibration, std::atoll(argv[5]));
        nlohmann::json out = {{"protocol", set.protocol.toJson()}, {"windows", nlohmann::json::array()}};
        for (const TokenWindow &w : set.windows)
            out["windows"].push_back({{"ids", w.ids}, {"first_target", w.firstTarget}});
        std::printf("%s\n", out.dump().c_str());
    } catch (const std::exception &e) {
        std::fprintf(stderr, "dump_windows: %s\n", e.what());
        return 1;
    }
    return 0;
}
