#include "commands.h"

#include "clicommon.h"
#include "jobs/jobcontext.h"
#include "model/inspect.h"
#include "model/modelhandle.h"
#include "model/tensorstats.h"
#include "progressbar.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

namespace blockscope::cli {

namespace {

struct InspectOptions
{
    std::string path;
    std::string tokenizer;
    bool json = false;
    bool stats = false;
};

int runInspect(const InspectOptions &o)
{
    OpenOptions open;
    open.tokenizerPath = o.tokenizer;
    const auto model = ModelHandle::open(o.path, open);
    std::map<std::string, TensorStats> stats;
    if (o.stats) {
        // Ctrl-C stops the statistics pass at the next chunk instead of killing the process.
        CommandJob command;
        TensorStatsCache cache;
        computeAllTensorStats(*model, cache, command.context());
        command.bar().finish();
        stats = cache.snapshot();
    }
    const auto *statsPtr = o.stats ? &stats : nullptr;
    if (o.json) {
        std::cout << inspectJson(*model, statsPtr).dump(2) << "\n";
    } else {
        std::cout << architectureSummary(*model) << "\n" << tensorTable(*model, statsPtr);
    }
    return ExitOk;
}

} // namespace

void addInspectCommand(CLI::App &app, int &exitCode)
{
    auto opts = std::make_shared<InspectOptions>();
    CLI::App *cmd
        = app.add_subcommand("inspect", "Print a checkpoint's architecture, tensor table and (optionally) statistics");
    cmd->add_option("path", opts->path,
           "Hugging Face folder (config.json + model.safetensors or a sharded index), .safetensors, .gguf, or llama2.c "
           ".bin")
        ->required();
    cmd->add_option("--tokenizer", opts->tokenizer,
        "llama2.c tokenizer.bin to use (default: tokenizer.bin or tok*.bin beside the model)");
    cmd->add_flag("--json", opts->json, "Print JSON instead of text");
    cmd->add_flag("--stats", opts->stats,
        "Compute per-tensor statistics: min, max, mean, std, L2 norm, zero fraction, NaN/Inf counts");
    cmd->callback([opts, &exitCode] { exitCode = guarded("inspect", [&] { return runInspect(*opts); }); });
}

} // namespace blockscope::cli
