// Evaluating block-sparse prefill (seerattention.md §5, §7).
#include "sparseeval.h"

#include "attentionkernels.h"
#include "common/formaterror.h"
#include "eval/perplexity.h"
#include "eval/windows.h"
#include "gateimpl.h"
#include "jobs/jobcontext.h"
#include "model/decoder.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace blockscope::sparse {

namespace {

struct LayerAccumulator
{
    double tile = 0, learned = 0, pair = 0;
    std::int64_t heads = 0, emptyRows = 0;
    std::vector<float> recall; // every token of every head and window
};

SparseLayerStats finish(LayerAccumulator &a)
{
    SparseLayerStats s;
    if (a.heads == 0)
        return s;
    s.tileDensity = a.tile / static_cast<double>(a.heads);
    s.tileDensityLearned = a.learned / static_cast<double>(a.heads);
    s.pairDensity = a.pair / static_cast<double>(a.heads);
    s.emptyRows = a.emptyRows;
    if (!a.recall.empty()) {
        double sum = 0;
        for (float r : a.recall)
            sum += r;
        s.recallMean = sum / static_cast<double>(a.recall.size());
        std::sort(a.recall.begin(), a.recall.end());
        s.recallMin = a.recall.front();
        s.recallP5 = a.recall[static_cast<std::size_t>(std::floor(0.05 * static_cast<double>(a.recall.size() - 1)))];
    }
    return s;
}

} // namespace

namespace {

SparseEvalResult evaluateSparseWith(const Decoder &decoder, const WindowSet &windows, const GateSet *gates,
    const MaskRule &rule, JobContext *job, MaskSource source, std::uint64_t seed, double densePerplexity)
{
    c10::NoGradGuard noGrad;
    if (source == MaskSource::Gates && !gates)
        throw UsageError("--gates: a gate file is needed to evaluate gate masks");
    if (!maskSourceHasScores(source) && rule.kind != MaskRule::Kind::Density)
        throw UsageError("the static and random baselines take a density, not a threshold");
    if (!windows.windows.empty())
        checkNoSlidingWindow(
            decoder, static_cast<std::int64_t>(windows.windows.front().ids.size()), "block-sparse evaluation");
    const int L = decoder.layers();
    const int B = gates ? gates->config().blockSize : 64;
    std::vector<LayerAccumulator> acc(static_cast<std::size_t>(L));
    std::int64_t window = 0;
    ForwardCapture cap;
    cap.attentionHook = [&](const AttentionInputs &in) {
        const auto b = in.queries.size(0), H = in.queries.size(1), N = in.queries.size(2);
        const int nb = static_cast<int>((N + B - 1) / B);
        std::vector<BlockMask> masks;
        at::Tensor S;
        if (source == MaskSource::Gates)
            S = gates->impl().logits(in).cpu();
        else if (source == MaskSource::Oracle) // Ĝ, a probability map per row: headMask takes its log
            S = blockAttentionMaps(
                in.queries.to(at::kFloat), in.keys.to(at::kFloat), in.values.to(at::kFloat), B, in.scale)
                    .truth.cpu();
        for (std::int64_t bi = 0; bi < b; ++bi)
            for (std::int64_t h = 0; h < H; ++h) {
                HeadScores scores;
                BlockGrid grid;
                if (S.defined()) {
                    grid = toGrid(S[bi][h]);
                    (source == MaskSource::Gates ? scores.gateLogits : scores.truth) = &grid;
                }
                scores.nb = nb;
                scores.seed = seed + static_cast<std::uint64_t>(((window + bi) * L + in.layer) * H + h);
                masks.push_back(headMask(source, scores, rule));
            }
        // The CPU references compute in float32 (or float64); CUDA kernels take the model's dtype.
        const bool widen = !in.queries.is_cuda() && in.queries.scalar_type() != at::kDouble;
        const at::Tensor q = widen ? in.queries.to(at::kFloat) : in.queries;
        const at::Tensor k = widen ? in.keys.to(at::kFloat) : in.keys;
        const at::Tensor v = widen ? in.values.to(at::kFloat) : in.values;
        at::Tensor mask = masksToTensor(masks, b, H, in.queries.device());
        at::Tensor recall = attentionMassRecall(q, k, mask, B, in.scale).cpu().contiguous();
        LayerAccumulator &a = acc[static_cast<std::size_t>(in.layer)];
        const float *r = recall.data_ptr<float>();
        a.recall.insert(a.recall.end(), r, r + recall.numel());
        for (const BlockMask &m : masks) {
            const MaskStats st = maskStats(m, static_cast<int>(N), B, {}, BlockGrid(nb));
            a.tile += st.tileDensity;
            a.learned += st.tileDensityLearned;
            a.pair += st.pairDensity;
            ++a.heads;
        }
        SparseAttentionResult out = blockSparseAttention(q, k, v, mask, B, in.scale);
        a.emptyRows += out.emptyRows;
        if (in.layer == L - 1)
            window += b;
        return out.output;
    };
    SparseEvalResult r;
    r.rule = rule;
    const UnitMask dense = UnitMask::dense(L);
    r.densePerplexity
        = densePerplexity > 0 ? densePerplexity : evaluatePerplexity(decoder, windows, dense, job, 8).perplexity;
    const PerplexityResult p = evaluatePerplexity(decoder, windows, dense, job, 8, &cap);
    r.perplexity = p.perplexity;
    r.tokens = p.scored;
    r.windowTokens = windows.windows.empty() ? 0 : static_cast<std::int64_t>(windows.windows.front().ids.size());
    LayerAccumulator all;
    double minRecall = std::numeric_limits<double>::infinity();
    for (auto &a : acc) {
        all.tile += a.tile;
        all.learned += a.learned;
        all.pair += a.pair;
        all.heads += a.heads;
        all.emptyRows += a.emptyRows;
        all.recall.insert(all.recall.end(), a.recall.begin(), a.recall.end());
        r.layers.push_back(finish(a));
        minRecall = std::min(minRecall, r.layers.back().recallMin);
    }
    r.mean = finish(all);
    r.mean.recallMin = minRecall;
    return r;
}

} // namespace

SparseEvalResult evaluateSparse(const Decoder &decoder, const WindowSet &windows, const GateSet *gates,
    const MaskRule &rule, JobContext *job, MaskSource source, std::uint64_t seed, double densePerplexity)
{
    return evaluateSparseWith(decoder, windows, gates, rule, job, source, seed, densePerplexity);
}

std::vector<SparseEvalResult> sweepSparsity(const Decoder &decoder, const WindowSet &windows, const GateSet &gates,
    const std::vector<MaskRule> &rules, JobContext *job, const std::function<void(const SparseEvalResult &)> &onPoint)
{
    std::vector<SparseEvalResult> out;
    const double dense = evaluatePerplexity(decoder, windows, UnitMask::dense(decoder.layers()), job, 8).perplexity;
    for (const MaskRule &rule : rules) {
        out.push_back(evaluateSparseWith(decoder, windows, &gates, rule, job, MaskSource::Gates, 0, dense));
        if (onPoint)
            onPoint(out.back());
    }
    return out;
}

void checkNoSlidingWindow(const Decoder &decoder, std::int64_t tokens, const std::string &what)
{
    const auto &window = decoder.architecture().slidingWindow;
    if (window && tokens > *window)
        throw UsageError(what + ": the model attends through a sliding window of " + std::to_string(*window)
            + " tokens, and these windows hold " + std::to_string(tokens)
            + "; block-sparse attention and its gates cover every earlier token, so they would describe another "
              "model. Use a context of at most "
            + std::to_string(*window) + " tokens (--context).");
}

} // namespace blockscope::sparse
