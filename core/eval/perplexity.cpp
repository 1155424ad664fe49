#include "perplexity.h"

#include "batching.h"
#include "jobs/jobcontext.h"
#include "model/decoder.h"
#include "windows.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <cmath>
#include <map>

namespace blockscope {

double reducePerplexity(PplFormula formula, const std::vector<double> &sums, const std::vector<std::int64_t> &counts)
{
    double total = 0, meanOfMeans = 0, meanOfPpl = 0;
    std::int64_t n = 0;
    for (std::size_t w = 0; w < sums.size(); ++w) {
        total += sums[w];
        n += counts[w];
        const double l = counts[w] ? sums[w] / counts[w] : 0;
        meanOfMeans += l;
        meanOfPpl += std::exp(l);
    }
    const double W = static_cast<double>(sums.size());
    switch (formula) {
    case PplFormula::F1MeanOfWindows: return std::exp(meanOfMeans / W);
    case PplFormula::F3MeanOfWindowPpl: return meanOfPpl / W;
    case PplFormula::F2TokenWeighted:
    case PplFormula::F4Strided: return std::exp(total / static_cast<double>(n));
    }
    return NAN;
}

namespace {

// Logits held at once: 2^26 float32 values (256 MiB). The LM head over a 49,152-token vocabulary for
// 8 windows of 2,048 tokens is 3.2 GB of float32, twice that with its log-softmax, so above this the
// NLL is taken in chunks of positions. Below it the whole batch goes at once, as before.
constexpr std::int64_t logitsBudget = std::int64_t(1) << 26;

// Summed NLL [B] (double, on the CPU) of `targets` [B, n] given the hidden states [B, n, d] that predict them.
at::Tensor scoredNll(const Decoder &decoder, const at::Tensor &hidden, const at::Tensor &targets)
{
    const std::int64_t B = hidden.size(0), n = hidden.size(1);
    const std::int64_t V = decoder.architecture().vocab;
    auto nllOf = [&](const at::Tensor &h, const at::Tensor &t) {
        at::Tensor lp = at::log_softmax(decoder.logits(h), -1);
        return -lp.gather(-1, t.to(lp.device()).unsqueeze(-1)).squeeze(-1).to(at::kDouble).sum(-1);
    };
    if (B * n * V <= logitsBudget)
        return nllOf(hidden, targets).cpu();
    const std::int64_t rows = std::max<std::int64_t>(1, logitsBudget / V);
    at::Tensor out = at::zeros({B}, at::kDouble);
    for (std::int64_t b = 0; b < B; ++b) {
        double sum = 0;
        for (std::int64_t t = 0; t < n; t += rows) {
            const std::int64_t len = std::min(rows, n - t);
            sum += nllOf(hidden[b].narrow(0, t, len).unsqueeze(0), targets[b].narrow(0, t, len).unsqueeze(0))
                       .item<double>();
        }
        out[b] = sum;
    }
    return out;
}

} // namespace

PerplexityResult evaluatePerplexity(const Decoder &decoder, const WindowSet &set, const UnitMask &mask, JobContext *job,
    int batch, ForwardCapture *capture)
{
    c10::NoGradGuard noGrad;
    PerplexityResult r;
    r.protocol = set.protocol;
    r.mask = mask;
    std::vector<double> sums(set.windows.size());
    std::vector<std::int64_t> counts(set.windows.size());
    const auto groups = equalShapeBatches(set, static_cast<std::size_t>(std::max(batch, 1)));
    std::size_t done = 0;
    if (job)
        job->stage("perplexity");
    for (const auto &idx : groups) {
        if (job)
            job->checkpoint();
        at::Tensor tokens = batchTokens(set, idx);
        const std::int64_t first = set.windows[idx.front()].firstTarget;
        const std::int64_t T = tokens.size(1);
        at::Tensor hidden = decoder.forwardBlocks(decoder.embed(tokens), 0, decoder.layers(), mask, capture);
        at::Tensor nll = scoredNll(decoder, hidden.narrow(1, first - 1, T - first), tokens.narrow(1, first, T - first));
        for (std::size_t b = 0; b < idx.size(); ++b) {
            sums[idx[b]] = nll[static_cast<std::int64_t>(b)].item<double>();
            counts[idx[b]] = T - first;
        }
        done += idx.size();
        if (job)
            job->progress(static_cast<double>(done), static_cast<double>(set.windows.size()));
    }
    for (std::size_t w = 0; w < sums.size(); ++w) {
        r.nllSum += sums[w];
        r.scored += counts[w];
        r.windowMeanNll.push_back(sums[w] / static_cast<double>(counts[w]));
    }
    r.perplexity = reducePerplexity(set.protocol.formula, sums, counts);
    return r;
}

DistanceResult compareToDense(
    const Decoder &decoder, const WindowSet &set, const UnitMask &mask, JobContext *job, int batch)
{
    c10::NoGradGuard noGrad;
    DistanceResult r;
    r.protocol = set.protocol;
    r.mask = mask;
    const auto dense = UnitMask::dense(decoder.layers());
    double klSum = 0, jsSum = 0, klAllSum = 0, angSum = 0;
    std::int64_t klTokens = 0, allElems = 0, angTokens = 0;
    std::size_t done = 0;
    if (job)
        job->stage("distance to dense");
    for (const auto &idx : equalShapeBatches(set, static_cast<std::size_t>(std::max(batch, 1)))) {
        if (job)
            job->checkpoint();
        at::Tensor tokens = batchTokens(set, idx);
        at::Tensor hd = decoder.forwardBlocks(decoder.embed(tokens), 0, decoder.layers(), dense);
        at::Tensor hm = decoder.forwardBlocks(decoder.embed(tokens), 0, decoder.layers(), mask);
        at::Tensor logP = at::log_softmax(decoder.logits(hd), -1), logQ = at::log_softmax(decoder.logits(hm), -1);
        at::Tensor P = logP.exp(), Q = logQ.exp();
        at::Tensor klTok = (P * (logP - logQ)).sum(-1); // [B, T]
        const auto T = tokens.size(1), V = logP.size(-1);
        klSum += klTok.narrow(1, 0, T - 1).to(at::kDouble).sum().item<double>();
        klTokens += static_cast<std::int64_t>(idx.size()) * (T - 1);
        klAllSum += klTok.to(at::kDouble).sum().item<double>();
        at::Tensor M = 0.5 * (P + Q);
        at::Tensor logM = M.clamp_min(1e-45).log();
        jsSum += (0.5 * ((M * (logM - logP)).sum() + (M * (logM - logQ)).sum())).to(at::kDouble).item<double>();
        allElems += static_cast<std::int64_t>(idx.size()) * T * V;
        at::Tensor cosv = at::cosine_similarity(hd.to(at::kFloat), hm.to(at::kFloat), -1).clamp(-1, 1);
        angSum += (at::acos(cosv) / M_PI).to(at::kDouble).sum().item<double>();
        angTokens += cosv.numel();
        done += idx.size();
        if (job)
            job->progress(static_cast<double>(done), static_cast<double>(set.windows.size()));
    }
    r.klPerToken = klSum / static_cast<double>(klTokens);
    r.klFinercut = klAllSum / static_cast<double>(allElems);
    r.jsFinercut = jsSum / static_cast<double>(allElems);
    r.angular = angSum / static_cast<double>(angTokens);
    r.tokens = klTokens;
    return r;
}

} // namespace blockscope
