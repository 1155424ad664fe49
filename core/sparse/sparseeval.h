#pragma once

// Running a model whose prefill attention is block-sparse, with masks from gates or a baseline
// (seerattention.md §5, §7): perplexity and what the masks keep. No LibTorch in this header.

#include "blockmask.h"
#include "masksource.h"
#include "ppa/ppa.h"
#include "sparsefwd.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace blockscope::sparse {

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

// Perplexity and §7 metrics of the model whose prefill attention is block-sparse with masks from
// `gates` under `rule` (or the static / random / oracle baselines at the same density).
SparseEvalResult evaluateSparse(const Decoder &decoder, const WindowSet &windows, const GateSet *gates,
    const MaskRule &rule, JobContext *job = nullptr, MaskSource source = MaskSource::Gates, std::uint64_t seed = 0,
    double densePerplexity = 0); // > 0: the dense model's, known already (not evaluated again)

// A sweep for the PPL-against-sparsity chart: one evaluation per rule, dense first.
std::vector<SparseEvalResult> sweepSparsity(const Decoder &decoder, const WindowSet &windows, const GateSet &gates,
    const std::vector<MaskRule> &rules, JobContext *job = nullptr,
    const std::function<void(const SparseEvalResult &)> &onPoint = {});

// Refuses (UsageError) a model with sliding-window attention whose window is shorter than the
// sequences: block-sparse prefill, the ground truth and gate training attend to every earlier
// token, so they would describe another model. `what` names the work ("gate training").
void checkNoSlidingWindow(const Decoder &decoder, std::int64_t tokens, const std::string &what);

} // namespace blockscope::sparse
