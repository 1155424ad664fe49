#pragma once

// Training SeerAttention gates on a frozen model (seerattention.md §3, §4), and evaluating the
// sparse model they give (§5, §7). No LibTorch in this header.

#include "blockmask.h"
#include "ppa/ppa.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace blockscope {
class Decoder;
class JobContext;
struct WindowSet;
} // namespace blockscope

namespace blockscope::sparse {

class GateSet;

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
};

// Builds the exact feature cache (§3) once, then trains with AdamW, warm-up and cosine. Writes the
// gate file and its training state ("<out>.trainstate.safetensors": AdamW moments, step, history)
// at every evaluation, at the end and when cancelled (JobCancelled); `resume` continues from that
// state with the same result as an uninterrupted run.
GateTrainResult trainGates(const GateTrainRequest &request, JobContext &job);

// Per-layer results of running the model with block-sparse attention chosen by the gates.
struct SparseLayerStats
{
    double tileDensity = 0, tileDensityLearned = 0, pairDensity = 0;
    double recallMean = 0, recallP5 = 0, recallMin = 0;
    std::int64_t emptyRows = 0;
};

struct SparseEvalResult
{
    MaskRule rule;
    double perplexity = 0;
    double densePerplexity = 0;
    std::vector<SparseLayerStats> layers;
    SparseLayerStats mean; // over layers (min of mins, sum of empty rows)
    std::int64_t tokens = 0;
    std::int64_t windowTokens = 0; // tokens per window (the prefill length)
    ppa::PpaPoint ppa; // modelled costs at the realised pair density (filled by runSparsitySweep)
};

enum class MaskSource { Gates, Static, Random, Oracle };

// Perplexity and §7 metrics of the model whose prefill attention is block-sparse with masks from
// `gates` under `rule` (or the static / random / oracle baselines at the same density).
SparseEvalResult evaluateSparse(const Decoder &decoder, const WindowSet &windows, const GateSet *gates,
    const MaskRule &rule, JobContext *job = nullptr, MaskSource source = MaskSource::Gates, std::uint64_t seed = 0);

// A sweep for the PPL-against-sparsity chart: one evaluation per rule, dense first.
std::vector<SparseEvalResult> sweepSparsity(const Decoder &decoder, const WindowSet &windows, const GateSet &gates,
    const std::vector<MaskRule> &rules, JobContext *job = nullptr,
    const std::function<void(const SparseEvalResult &)> &onPoint = {});

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
    GateTrainOptions options;
    bool resume = false;
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
