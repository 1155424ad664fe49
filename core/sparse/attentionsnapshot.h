#pragma once

// Everything the attention page and `blockscope-cli attention` draw for one text and one layer
// (seerattention.md §7 "Heatmap inputs"), as plain arrays. No LibTorch in this header.

#include "blockmask.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace blockscope {
class Decoder;
class JobContext;
} // namespace blockscope

namespace blockscope::sparse {

class GateSet;

struct HeadAttention
{
    BlockGrid truth; // Ĝ: row-normalised block max of the true attention (0 above the diagonal)
    BlockGrid gateLogits; // S (empty grid when there are no gates); above the diagonal unused
    BlockGrid gateProbs; // softmax_J(S) over J <= I
    BlockGrid blockMass; // Σ_{i∈I} Msum[i, J]: true attention mass of query block I in key block J
    std::vector<float> tokenMass; // Msum [N x nb] row-major; empty when N·nb is too large to keep
    std::vector<float> tokenProbs; // P [N x N] row-major; only for short texts (N <= tokenViewLimit)
};

struct LayerAttentionSnapshot
{
    int layer = 0;
    int tokens = 0; // N
    int blockSize = 64;
    int nb = 0;
    bool hasGates = false;
    std::vector<std::string> tokenTexts; // one display string per token (for the token-level view)
    std::vector<HeadAttention> heads; // Hq entries
    HeadAttention meanOverHeads; // element-wise means of the grids above (tokenProbs included)
};

struct SnapshotOptions
{
    int blockSize = 64; // ignored when gates are given: the gates' block size is used
    int tokenViewLimit = 256; // keep P for N <= this
    std::int64_t tokenMassLimit = 1 << 24; // keep Msum when Hq·N·nb <= this many floats
};

// Runs the model on `tokens` (no gradient) up to `layer` and computes that layer's maps.
// Throws std::invalid_argument naming a bad layer or an empty text.
LayerAttentionSnapshot computeAttentionSnapshot(const Decoder &decoder, const std::vector<std::int64_t> &tokens,
    const std::vector<std::string> &tokenTexts, int layer, const GateSet *gates, const SnapshotOptions &options,
    JobContext *job = nullptr);

// What the attention page holds while it is open: the model, its tokenizer and (optionally) gates,
// loaded once; each snapshot is one forward up to the chosen layer. Not thread-safe: one call at a
// time (the app calls it from its job runner, newest request first).
class AttentionSession
{
public:
    struct Options
    {
        std::string modelPath;
        std::string tokenizerPath; // empty: found beside the model
        std::string gatesPath; // empty: no gates (ground truth only)
        std::string device = "cpu";
        int maxTokens = 32768; // longer texts are cut (and at the model's context), and snapshot() says so
    };
    // Opens everything; throws (FormatError, UsageError, GateMismatch) naming the file at fault.
    explicit AttentionSession(const Options &options);
    ~AttentionSession();

    const Options &options() const;
    int layers() const;
    int heads() const;
    int kvHeads() const;
    bool hasGates() const;
    int gateBlockSize() const; // 0 without gates

    // Loads (or with an empty path drops) gates; the old ones stay when loading fails.
    void setGates(const std::string &gatesPath);

    // Tokenizes `text` (with BOS as the model expects) and computes the layer's maps.
    LayerAttentionSnapshot snapshot(const std::string &text, int layer, const SnapshotOptions &options,
        JobContext *job = nullptr, bool *truncated = nullptr);

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace blockscope::sparse
