#pragma once

// Internal to the LibTorch side of core/prune: scores configurations of a decoder on a fixed set
// of calibration sequences, reusing the residual states of a base configuration (pruning.md §8).

#include "model/unitmask.h"
#include "pruneoptions.h"

#include <ATen/Tensor.h>

#include <cstdint>
#include <limits>
#include <vector>

namespace blockscope {

class Decoder;
class JobContext;

// The score primitives of pruning.md §1.1 that compare logits to targets or to the dense model.
enum class ScoreKind {
    NllSumSleb, // Σ_w T·mean NLL
    MeanNll, // Σ NLL / Σ predicted tokens (EvoPress "ppl" fitness)
    KlEvopress, // token-weighted KL(P‖Q), last position dropped
    JsFinercut, // ½[KL(M‖P)+KL(M‖Q)] / (N·T·V)
    KlFinercut, // Σ P(log P − log Q) / (N·T·V)
    NormFinercut, // mean over windows of ‖z_dense − z_cfg‖_F
};

bool scoreNeedsDense(ScoreKind kind);

// How a divergence keeps the dense model's reference (pruning.md §5): logits in a precision, or the
// K most likely tokens' log-probabilities plus one bucket for the rest.
enum class TeacherFormat { Float32, Float16, BFloat16, TopK };
struct TeacherSpec
{
    TeacherFormat format = TeacherFormat::Float32;
    int k = 0; // TopK only
};
// EvoPress's KL fitness keeps the teacher the options ask for; every other score float32 logits.
TeacherSpec teacherSpec(const PruneOptions &options);

// The dense model's reference for one sequence, on the host.
struct TeacherRows
{
    // Full formats: [len, V] logits in the spec's dtype. TopK: [len, K+1] float32 log-probabilities
    // of the K kept tokens, then of all the others together (-inf when they have none).
    at::Tensor values;
    at::Tensor indices; // TopK: [len, K] int32 token ids of the kept tokens
    bool defined() const { return values.defined(); }
    bool topK() const { return indices.defined(); }
    std::int64_t length() const { return values.size(0); }
    TeacherRows head(std::int64_t len) const; // the first `len` positions (views, no copy)
    std::int64_t bytes() const;
};
// logits [len, V] float32 (any device) -> the reference kept on the host.
TeacherRows makeTeacher(const at::Tensor &logits, const TeacherSpec &spec);

// The dense model's reference for a batch of windows, one entry per window.
struct DenseReference
{
    std::vector<TeacherRows> rows;
};
DenseReference denseReference(ScoreKind kind, const at::Tensor &denseLogits, const TeacherSpec &spec = {});

// Adds one batch's contribution to a score's numerator and denominator (the score is num / den).
// tokens [B, T] int64; logits [B, T, V] float32; the reference is unused by the NLL scores.
void accumulateScore(ScoreKind kind, const at::Tensor &tokens, std::int64_t firstTarget, const DenseReference &ref,
    const at::Tensor &logits, double &num, double &den);
// The score of one batch on its own.
double scoreLogits(ScoreKind kind, const at::Tensor &tokens, std::int64_t firstTarget, const at::Tensor &dense,
    const at::Tensor &logits, const TeacherSpec &spec = {});

// A configuration's quality from its final hidden states [B, T, d]: each window's NLL sum over the
// targets firstTarget .. T-1 (float64 [B], on the hidden states' device) and, when denseHidden is
// defined, Σ KL(P_dense ‖ Q) over positions 0 .. T-2. The LM head and the log-softmax run a slice
// of positions at a time (CalibrationScorer::sliceBytes()), so [B, T, V] never exists at once.
struct HiddenQuality
{
    at::Tensor nllSums;
    double klSum = 0;
};
HiddenQuality qualityFromHidden(const Decoder &decoder, const at::Tensor &tokens, std::int64_t firstTarget,
    const at::Tensor &hidden, const at::Tensor &denseHidden);

// Windows of length T per forward batch when the user gave none: as many as keep a batch's
// residual states and logits within a fixed memory budget (all of them for a small model, one
// at a time for a 7B model at T = 2048), so "all windows in one batch" never exhausts memory.
std::size_t windowsPerBatch(const Decoder &decoder, std::int64_t T, int requested);

// One calibration sequence: token ids and the position of the first target (NLL scores only).
struct ScoredSequence
{
    std::vector<std::int32_t> ids;
    std::int64_t firstTarget = 1;
    TeacherRows teacher; // the dense model's reference; needed by divergences
};

// Sublayer boundaries: s = 2l is the state entering attention l (= entering block l), s = 2l+1 the
// state entering MLP l, s = 2L the final state. A candidate that differs from the base first at
// boundary s starts from the base's state there.
class CalibrationScorer
{
public:
    // `batch` sequences of equal length go through the model together (0 = as many as fit, see
    // windowsPerBatch).
    CalibrationScorer(const Decoder &decoder, std::vector<ScoredSequence> sequences, ScoreKind kind, int batch,
        bool cached, JobContext &job);
    ~CalibrationScorer();

    // Makes `base` the configuration candidates are compared to; when cached, runs it once and
    // keeps its state at every alive sublayer boundary (its sublayer-forwards are counted unless
    // `count` is false, as when a resumed search rebuilds its cache).
    void setBase(const UnitMask &base, bool count = true);
    // The score of `candidate`. With caching it starts at the first sublayer where candidate and
    // base differ; `capture` holds on to its states so keepLast() can keep them. SLEB's score only:
    // once the running sum exceeds `stopAbove` by more than a near tie (pruning.md §1) the candidate
    // cannot be chosen, and it stops there; the partial sum returned is then a lower bound
    // (lastWasLowerBound()).
    double score(
        const UnitMask &candidate, bool capture = false, double stopAbove = std::numeric_limits<double>::infinity());
    bool lastWasLowerBound() const { return m_lastStopped; }
    // Tokens the last score() ran (fewer than totalTokens() when it stopped early).
    std::int64_t lastTokens() const { return m_lastTokens; }
    // Counts `candidate` as score() would, without running it: its score is known already (an
    // interrupted run scored it, over `tokens` tokens when it stopped early; -1: all of them), so a
    // resumed search's counts equal an uninterrupted one's.
    void credit(const UnitMask &candidate, std::int64_t tokens = -1);
    // Keeps the states of the last captured candidate (the best so far, say).
    void keepLast();
    // Makes the kept candidate the base, reusing its states (no forward).
    void adoptKept();
    const UnitMask &base() const { return m_base; }

    std::int64_t evaluations() const { return m_evaluations; }
    // Sublayer-forwards, counted once per evaluation of the whole sequence set.
    std::int64_t sublayerForwards() const { return m_sublayerForwards; }
    std::int64_t tokens() const { return m_tokens; }
    std::int64_t totalTokens() const { return m_totalTokens; }

    // Every score runs the LM head a slice of positions at a time so that a slice's logits stay
    // within this many bytes (128 MiB unless set; tests make it small to cut many slices).
    static void setSliceBytes(double bytes);
    static double sliceBytes();

    // First sublayer boundary at which two masks differ (2L when they are equal).
    static int firstDifference(const UnitMask &a, const UnitMask &b);

private:
    struct Chunk;
    at::Tensor runFrom(
        const Chunk &chunk, at::Tensor h, int start, const UnitMask &mask, std::vector<at::Tensor> *states) const;

    const Decoder &m_decoder;
    ScoreKind m_kind;
    bool m_cached;
    JobContext &m_job;
    std::vector<Chunk> m_chunks;
    UnitMask m_base;
    bool m_hasBase = false;
    UnitMask m_last, m_kept;
    int m_lastFrom = 0, m_keptFrom = 0;
    mutable UnitMask m_single; // all skipped but one sublayer: runs a half block
    std::int64_t m_evaluations = 0, m_sublayerForwards = 0, m_tokens = 0, m_totalTokens = 0;
    std::int64_t m_windows = 0, m_elements = 0;
    bool m_lastStopped = false;
    std::int64_t m_lastTokens = 0;
};

} // namespace blockscope
