#include "commands.h"

#include "clicommon.h"
#include "common/formaterror.h"
#include "model/modelhandle.h"
#include "store/experimentcheck.h"
#include "store/experimentfile.h"
#include "store/ggufexport.h"
#include "store/modelexport.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

namespace blockscope::cli {

namespace {
struct ExportArgs
{
    std::string experiment;
    std::string out;
    std::string runId;
    int step = -1;
    std::string point;
    std::vector<int> skipAttn, skipMlp, skipBlock;
    std::string model;
    bool anyModel = false;
    bool dense = false;
    std::string dtype;
    bool force = false;
    double shardGb = 5.0;
    std::string format = "hf";
    std::string ggufType;
};

} // namespace

void addExportCommand(CLI::App &app, int &exitCode)
{
    auto a = std::make_shared<ExportArgs>();
    auto cmd = app.add_subcommand("export",
        "Write a configuration of a run (a step, a PPA point, or any what-if) as a Hugging Face folder that "
        "transformers loads: removed blocks physically removed, removed sublayers' output projections zeroed");
    cmd->add_option("experiment", a->experiment, "Experiment file (.h5) written by prune")->required();
    cmd->add_option("--out", a->out,
           "Folder to write (hf), or the .gguf file (gguf); refused when not empty or present, unless --force")
        ->required();
    cmd->add_option("--format", a->format, "hf: a Hugging Face folder; gguf: one GGUF file for llama.cpp")
        ->capture_default_str()
        ->check(CLI::IsMember({"hf", "gguf"}));
    cmd->add_option("--gguf-type", a->ggufType,
           "GGUF: the type of every matrix, F32, F16, BF16, Q8_0, Q4_0 or Q4_1 (default: keep the source's; a GGUF's "
           "own blocks are copied bit for bit)")
        ->check(CLI::IsMember({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1"}));
    cmd->add_option("--run", a->runId, "Run id, e.g. run-0001 (default: the file's only run)");
    auto *step = cmd->add_option("--step", a->step, "Step index of the run's trace (default: its last step)");
    auto *point = cmd->add_option("--point", a->point, "Label of one of the run's PPA points, e.g. \"step 3\"");
    step->excludes(point);
    auto *attn = cmd->add_option("--skip-attn", a->skipAttn, "What-if: attention sublayers to remove, e.g. 3,5")
                     ->delimiter(',');
    auto *mlp = cmd->add_option("--skip-mlp", a->skipMlp, "What-if: MLP sublayers to remove")->delimiter(',');
    auto *block = cmd->add_option("--skip-block", a->skipBlock, "What-if: whole blocks to remove")->delimiter(',');
    auto *dense = cmd->add_flag("--dense", a->dense, "What-if: nothing removed (the run's model, converted)");
    for (auto *w : {attn, mlp, block, dense}) {
        w->excludes(step);
        w->excludes(point);
    }
    for (auto *w : {attn, mlp, block})
        w->excludes(dense);
    cmd->add_option("--model", a->model, "The checkpoint the run searched, when it has moved");
    cmd->add_flag("--any-model", a->anyModel, "Export from --model even when its content differs from the run's");
    cmd->add_option("--dtype", a->dtype,
           "Convert every tensor: float32, float16 or bfloat16 (default: keep; "
           "quantised tensors become float32)")
        ->check(CLI::IsMember({"float32", "float16", "bfloat16"}));
    cmd->add_flag("--force", a->force, "Replace a folder that is not empty (only once the export is complete)");
    cmd->add_option("--shard-gb", a->shardGb, "Shard the weights above this many GB")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->callback([a, &exitCode] {
        exitCode = guarded("export", [&] {
            const auto start = std::chrono::steady_clock::now();
            const Experiment e = readExperimentChecked(a->experiment);
            ExportPick pick;
            pick.runId = a->runId;
            if (a->step >= 0)
                pick.step = a->step;
            pick.point = a->point;
            pick.modelOverride = a->model;
            pick.checkModelHash = !a->anyModel;
            if (a->dense || !a->skipAttn.empty() || !a->skipMlp.empty() || !a->skipBlock.empty()) {
                const ExperimentRun *run
                    = a->runId.empty() ? (e.runs.size() == 1 ? &e.runs.front() : nullptr) : e.find(a->runId);
                if (!run)
                    throw UsageError(a->experiment + ": give --run (" + std::to_string(e.runs.size())
                        + " runs) for a what-if configuration");
                pick.whatIf = UnitMask::fromSkipLists(run->info.layers, a->skipAttn, a->skipMlp, a->skipBlock);
            }
            const ExportSelection sel = selectForExport(a->experiment, e, pick);
            const auto model = ModelHandle::open(sel.modelPath);
            if (a->format == "gguf") {
                if (!a->dtype.empty())
                    throw UsageError("--dtype is for --format hf; give --gguf-type for a GGUF");
                GgufExportOptions o;
                o.type = a->ggufType;
                o.force = a->force;
                o.recordJson = sel.recordJson;
                const GgufExportResult r = exportGguf(model, sel.mask, a->out, o);
                const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                std::cout << "exported " << sel.description << "\n";
                std::cout << "  into " << r.file << ": " << r.keptBlocks << " of " << sel.mask.layers() << " blocks, "
                          << r.zeroed.size() << " projections zeroed, " << r.bytes << " bytes, " << seconds << " s\n";
                for (const std::string &n : r.notes)
                    std::cout << "  note: " << n << "\n";
                return ExitOk;
            }
            if (!a->ggufType.empty())
                throw UsageError("--gguf-type is for --format gguf");
            HfExportOptions o;
            o.dtype = a->dtype;
            o.force = a->force;
            o.shardBytes = static_cast<std::uint64_t>(a->shardGb * 1e9);
            o.recordJson = sel.recordJson;
            const HfExportResult r = exportHuggingFace(model, sel.mask, a->out, o);
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            std::cout << "exported " << sel.description << "\n";
            std::cout << "  into " << r.folder << ": " << r.keptBlocks << " of " << sel.mask.layers() << " blocks, "
                      << r.zeroed.size() << " projections zeroed, " << r.weightBytes << " bytes of weights in "
                      << r.files.size() << " files, " << seconds << " s\n";
            for (const std::string &n : r.notes)
                std::cout << "  note: " << n << "\n";
            return ExitOk;
        });
    });
}

} // namespace blockscope::cli
