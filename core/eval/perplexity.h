#pragma once

#include "model/unitmask.h"
#include "protocol.h"

#include <cstdint>
#include <vector>

namespace blockscope {

class Decoder;
class JobContext;
struct ForwardCapture;
struct WindowSet;

struct PerplexityResult
{
    double perplexity = 0;
    double nllSum = 0;
    std::int64_t scored = 0;
    std::vector<double> windowMeanNll; // l_w per window
    Protocol protocol;
    UnitMask mask;
};

// Perplexity of `decoder` with `mask` on the windows, reduced by the protocol's formula.
// Windows of equal length are batched `batch` at a time. Reports progress per batch and stops
// at the next batch when cancelled (throws JobCancelled). `capture`, when given, goes to every
// forward (e.g. an attention hook that makes attention block-sparse).
PerplexityResult evaluatePerplexity(const Decoder &decoder, const WindowSet &windows, const UnitMask &mask,
    JobContext *job = nullptr, int batch = 8, ForwardCapture *capture = nullptr);

// Reduces per-window NLL sums and counts by a formula (exposed for tests).
double reducePerplexity(
    PplFormula formula, const std::vector<double> &nllSums, const std::vector<std::int64_t> &counts);

// Distances between a masked configuration and the dense model on the same windows
// (pruning.md §1.1), computed in float32 whatever the model dtype.
struct DistanceResult
{
    double klPerToken = 0; // kl_evopress: token-weighted mean KL(P_dense || Q_masked), last position dropped
    double jsFinercut = 0; // ½[KL(M‖P)+KL(M‖Q)] / (N·T·V), all positions
    double klFinercut = 0; // Σ P(log P − log Q) / (N·T·V), all positions
    double angular = 0; // mean over tokens of arccos(cos(h_dense, h_masked))/π of the last hidden state
    std::int64_t tokens = 0;
    Protocol protocol;
    UnitMask mask;
};

DistanceResult compareToDense(
    const Decoder &decoder, const WindowSet &windows, const UnitMask &mask, JobContext *job = nullptr, int batch = 8);

} // namespace blockscope
