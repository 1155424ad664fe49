#pragma once

// Training SeerAttention gates on a frozen model (seerattention.md §3, §4). Evaluating the sparse
// model they give is sparseeval.h; the jobs the CLI and the app run are jobs/sparsejobs.h. No
// LibTorch in this header.

#include "blockmask.h"
#include "sparsefwd.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace blockscope::dist {
class Group;
}

namespace blockscope::sparse {

struct GateTrainOptions
{
    int blockSize = 16;
    std::int64_t gateDim = 0; // 0 = head dim
    std::int64_t steps = 300;
    int batch = 8; // sequences per step
    double lr = 1e-3;
    double minLr = 0.0; // cosine floor
    std::int64_t warmup = 20;
    double weightDecay = 0.0;
    double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    double lossScale = 10.0;
    std::uint64_t seed = 0;
    std::int64_t evalEvery = 50; // held-out evaluation every this many steps (0 = only at the end)
    double evalDensity = 0.5; // recall reported at this density
    double evalThreshold = 2e-3; // realised density reported at this threshold

    std::string validate() const; // empty when valid, else "option: why"
};

struct GateEvalPoint
{
    std::int64_t step = 0;
    std::vector<double> layerKl; // §3 loss per layer (no ×10)
    double kl = 0; // mean over layers
    double recallAtDensity = 0; // mean mass recall at evalDensity, over layers and heads
    double recallStaticAtDensity = 0; // the same for the static pattern (first block + local window)
    double recallRandomAtDensity = 0; // the same for seeded random masks
    double densityAtThreshold = 0; // realised tile density at evalThreshold
};

struct GateTrainStep
{
    std::int64_t step = 0; // 0-based
    double lr = 0;
    double loss = 0; // total (×10, summed over layers)
    std::vector<double> layerLoss; // per layer, before ×10
    std::int64_t tokens = 0; // tokens seen so far
    double seconds = 0; // wall time so far
};

struct GateTrainResult
{
    std::vector<GateTrainStep> steps;
    std::vector<GateEvalPoint> evals; // includes the untrained gates at step 0 and the end
    bool resumed = false;
};

struct GateTrainRequest
{
    const Decoder *decoder = nullptr;
    const WindowSet *calibration = nullptr; // training windows ([BOS] + T-1 tokens each)
    const WindowSet *heldOut = nullptr; // evaluation windows (may be null: no held-out evaluation)
    GateTrainOptions options;
    std::string outPath; // the gate file written at the end (and at every evaluation)
    bool resume = false; // continue from outPath's training state when it exists
    std::function<void(const GateTrainStep &)> onStep;
    std::function<void(const GateEvalPoint &)> onEval;
    // Data parallel over ranks (issue 16): every rank runs trainGates with the same request; each
    // takes every world-th window of a step's batch, its loss weighted by its share, and the
    // gradients (and the losses reported) are summed over the ranks before every rank takes the
    // same AdamW step. The weights equal one process's up to float32 summation order. Rank 0 alone
    // evaluates on the held-out windows and writes the gate file and its training state.
    dist::Group *group = nullptr;
};

// Builds the exact feature cache (§3) once, then trains with AdamW, warm-up and cosine. Writes the
// gate file and its training state ("<out>.trainstate.safetensors": AdamW moments, step, history)
// at every evaluation, at the end and when cancelled (JobCancelled); `resume` continues from that
// state with the same result as an uninterrupted run.
GateTrainResult trainGates(const GateTrainRequest &request, JobContext &job);

} // namespace blockscope::sparse
