#pragma once

// The SeerAttention jobs as the CLI and the app run them: gate training from files, and the
// sparsity sweep that can be added to an experiment file. No LibTorch in this header.

#include "sparse/gatetraining.h"
#include "sparse/sparseeval.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace blockscope {
class JobContext;
} // namespace blockscope

namespace blockscope::sparse {

// The whole job as the CLI and the app run it: open the model and its tokenizer, cut the text into
// calibration and held-out windows under a protocol (pruning.md §2: calibration pool for training,
// eval pool held out), train, write the gate file. Errors name the file or option at fault.
struct GateTrainJob
{
    std::string modelPath;
    std::string tokenizerPath; // empty: found beside the model
    std::string calibPath; // text file
    std::string outPath; // .seergate.safetensors
    std::string protocol = "tiny-ts";
    std::int64_t context = 0; // 0: the preset's
    std::int64_t calibrationWindows = 0; // calibration-pool windows to train on (0: all)
    std::int64_t heldOutWindows = 16; // eval-pool windows for the held-out evaluation (0: none)
    std::string device = "cpu";
    int threads = 0; // CPU threads of this process; 0: LibTorch's default
    GateTrainOptions options;
    bool resume = false; // with ranks, every rank reads the state at outPath (a disk they share, or each a copy)
    // Ranks training data-parallel (GateTrainRequest::group): they first agree on the model, the
    // text and the options; rank 0 alone writes the gate file.
    dist::Group *group = nullptr;
    std::function<void(const GateTrainStep &)> onStep;
    std::function<void(const GateEvalPoint &)> onEval;
};
GateTrainResult runGateTrainJob(const GateTrainJob &request, JobContext &job);

// The sparsity sweep as the CLI and the app run it (evaluation windows of `textPath` under the
// protocol, eval pool). With no rules: top-k densities 1.0, 0.5, 0.4, 0.3, 0.2, 0.1.
struct SparsitySweepJob
{
    std::string modelPath;
    std::string tokenizerPath;
    std::string gatesPath; // required for MaskSource::Gates
    std::string textPath;
    std::string protocol = "tiny-ts";
    std::int64_t context = 0;
    std::int64_t windows = 0; // 0: all
    std::string device = "cpu";
    MaskSource source = MaskSource::Gates;
    std::vector<MaskRule> rules;
    std::vector<std::string> predictFor; // roofline predictions per point for these devices
    std::string experimentPath; // when set, the sweep is added to this experiment file
    std::string label;
    std::function<void(const SparseEvalResult &)> onPoint;
};
struct SparsitySweepReport
{
    std::vector<SparseEvalResult> points;
    std::string sweepId; // in experimentPath, when written
};
SparsitySweepReport runSparsitySweep(const SparsitySweepJob &request, JobContext &job);

} // namespace blockscope::sparse
