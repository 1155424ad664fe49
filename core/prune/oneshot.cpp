// One-shot baselines: ShortGPT Block Influence (pruning.md §6) and the angular distance of
// Gromov et al. (§7). One dense pass with hidden states; each target count is one trace step.

#include "common/formaterror.h"
#include "jobs/jobcontext.h"
#include "model/decoder.h"
#include "searchcommon.h"

#include <ATen/ATen.h>
#include <algorithm>
#include <c10/core/GradMode.h>
#include <cmath>
#include <map>
#include <numeric>

namespace blockscope {

namespace {

// Runs the dense model on the calibration sequences in batches of equal length and hands each
// batch's hidden states h_0..h_L to `use` (h_L after the final norm when asked).
template<class Use>
void denseHiddenStates(SearchContext &ctx, const std::vector<ScoredSequence> &seqs, Use use)
{
    c10::NoGradGuard noGrad;
    const int L = ctx.layers;
    std::map<std::size_t, std::vector<std::size_t>> byLength;
    for (std::size_t i = 0; i < seqs.size(); ++i)
        byLength[seqs[i].ids.size()].push_back(i);
    std::size_t done = 0;
    for (const auto &[T, idx] : byLength) {
        const std::size_t per = windowsPerBatch(ctx.decoder, static_cast<std::int64_t>(T), ctx.options.batch);
        for (std::size_t at = 0; at < idx.size(); at += per) {
            ctx.job.checkpoint();
            const std::size_t n = std::min(per, idx.size() - at);
            at::Tensor tokens = at::empty({static_cast<std::int64_t>(n), static_cast<std::int64_t>(T)}, at::kLong);
            auto acc = tokens.accessor<std::int64_t, 2>();
            for (std::size_t b = 0; b < n; ++b)
                for (std::size_t p = 0; p < T; ++p)
                    acc[static_cast<std::int64_t>(b)][static_cast<std::int64_t>(p)] = seqs[idx[at + b]].ids[p];
            ForwardCapture cap;
            cap.hiddenStates = true;
            ctx.decoder.forwardBlocks(ctx.decoder.embed(tokens), 0, L, UnitMask::dense(L), &cap);
            if (ctx.options.lastHiddenPostNorm)
                cap.hidden[L] = ctx.decoder.finalNorm(cap.hidden[L]);
            use(cap.hidden);
            done += n;
            ctx.job.progress(static_cast<double>(done), static_cast<double>(seqs.size()));
        }
    }
}

at::Tensor cosine(const at::Tensor &a, const at::Tensor &b)
{
    // Row-wise, without an epsilon: a zero vector gives NaN, which the callers handle. In float64:
    // arccos near 1 magnifies float32 rounding (cos = 1 - 6e-8 reads as an angle of 1e-4), which
    // would put identical states at a visible distance.
    const at::Tensor x = a.to(at::kDouble), y = b.to(at::kDouble);
    return (x * y).sum(-1) / (x.norm(2, -1) * y.norm(2, -1));
}

} // namespace

void runShortGpt(SearchContext &ctx)
{
    const int L = ctx.layers;
    const int K = ctx.options.targetCount(L);
    ctx.job.stage("ShortGPT: block influence");
    const auto seqs = ctx.sequences(ScoreKind::NllSumSleb);
    std::vector<double> bi(L, 0.0);
    std::int64_t tokens = 0;
    denseHiddenStates(ctx, seqs, [&](const std::vector<at::Tensor> &h) {
        for (int l = 0; l < L; ++l) {
            at::Tensor c = cosine(h[l], h[l + 1]);
            at::Tensor term = at::where(at::isnan(c), at::full_like(c, 0.5), 1.0 - c);
            bi[l] += term.to(at::kDouble).sum().item<double>();
        }
        tokens += h[0].size(0) * h[0].size(1);
    });
    std::vector<int> order;
    for (int l = 0; l < L; ++l)
        if (!ctx.isProtected(l))
            order.push_back(l);
    // Stable by (BI, index); the official numpy sort is unstable.
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return bi[a] < bi[b]; });
    if (K > static_cast<int>(order.size()))
        throw UsageError("ShortGPT cannot remove " + std::to_string(K) + " blocks: only " + std::to_string(order.size())
            + " are not protected");
    for (int n = static_cast<int>(ctx.resume.size()) + 1; n <= K; ++n) {
        TraceStep t;
        t.index = n - 1;
        t.kind = "one-shot";
        t.mask = UnitMask::dense(L);
        for (int r = 0; r < n; ++r) {
            const Unit u{UnitKind::Block, order[r]};
            u.applyTo(t.mask);
            t.chosen.push_back(u);
        }
        t.removedSoFar = t.chosen;
        for (std::size_t r = 0; r < order.size(); ++r)
            t.candidates.push_back({Unit{UnitKind::Block, order[r]}, bi[order[r]], static_cast<int>(r)});
        t.chosenScore = bi[order[n - 1]];
        t.nearTie = (n < static_cast<int>(order.size()) && nearTie(bi[order[n - 1]], bi[order[n]]))
            || (n > 1 && nearTie(bi[order[n - 1]], bi[order[n - 2]]));
        t.blockScores = bi;
        t.evaluations = 1;
        t.unitForwards = L;
        t.tokens = tokens;
        ctx.emit(std::move(t));
    }
}

void runAngular(SearchContext &ctx)
{
    const int L = ctx.layers;
    const int K = ctx.options.targetCount(L);
    ctx.job.stage("angular distance");
    const auto seqs = ctx.sequences(ScoreKind::NllSumSleb);
    std::vector<double> D((L + 1) * (L + 1), 0.0);
    std::int64_t samples = 0, tokens = 0;
    const double scale = ctx.options.angularDivideByPi ? M_PI : 1.0;
    denseHiddenStates(ctx, seqs, [&](const std::vector<at::Tensor> &h) {
        std::vector<at::Tensor> v;
        for (const auto &x : h) // [B, T, d] -> rows to compare
            v.push_back(ctx.options.angularAllTokens ? x.reshape({-1, x.size(-1)}) : x.select(1, x.size(1) - 1));
        for (int a = 0; a <= L; ++a)
            for (int b = a + 1; b <= L; ++b) {
                at::Tensor c = cosine(v[a], v[b]).clamp(-1.0, 1.0);
                c = at::where(at::isnan(c), at::ones_like(c), c); // two zero vectors point the same way
                D[a * (L + 1) + b] += (at::acos(c) / scale).to(at::kDouble).sum().item<double>();
            }
        samples += v[0].size(0);
        tokens += h[0].size(0) * h[0].size(1);
    });
    for (int a = 0; a <= L; ++a)
        for (int b = a + 1; b <= L; ++b) {
            D[a * (L + 1) + b] /= static_cast<double>(samples);
            D[b * (L + 1) + a] = D[a * (L + 1) + b];
        }
    for (int n = static_cast<int>(ctx.resume.size()) + 1; n <= K; ++n) {
        TraceStep t;
        t.index = n - 1;
        t.kind = "one-shot";
        int best = -1;
        std::size_t bestCandidate = 0;
        for (int l = 0; l + n <= L; ++l) {
            bool blocked = false;
            for (int b = l; b < l + n; ++b)
                blocked = blocked || ctx.isProtected(b);
            if (blocked)
                continue;
            const double d = D[l * (L + 1) + l + n];
            t.candidates.push_back({Unit{UnitKind::Block, l}, d, l});
            if (best < 0 || d < D[best * (L + 1) + best + n]) { // ties: the lowest l
                best = l;
                bestCandidate = t.candidates.size() - 1;
            }
        }
        if (best < 0)
            throw UsageError("angular distance: no run of " + std::to_string(n) + " unprotected blocks");
        t.mask = UnitMask::dense(L);
        for (int b = best; b < best + n; ++b) {
            const Unit u{UnitKind::Block, b};
            u.applyTo(t.mask);
            t.chosen.push_back(u);
        }
        t.removedSoFar = t.chosen;
        t.chosenScore = D[best * (L + 1) + best + n];
        for (std::size_t i = 0; i < t.candidates.size(); ++i)
            t.nearTie = t.nearTie || (i != bestCandidate && nearTie(t.candidates[i].score, t.chosenScore));
        t.distanceMatrix = D;
        t.evaluations = 1;
        t.unitForwards = L;
        t.tokens = tokens;
        ctx.emit(std::move(t));
    }
}

} // namespace blockscope
