#include "calibrationscorer.h"

#include "eval/batching.h"
#include "jobs/jobcontext.h"
#include "model/decoder.h"

#include <ATen/ATen.h>
#include <algorithm>
#include <atomic>
#include <c10/core/GradMode.h>
#include <cmath>
#include <map>
#include <stdexcept>

namespace blockscope {

struct CalibrationScorer::Chunk
{
    at::Tensor tokens; // [B, T] int64, CPU
    std::vector<TeacherRows> reference; // per window: the dense model's reference, for divergences
    // The reference's log P and P over the scored positions [B, T', V], when they fit the cache
    // budget: computed once instead of for every candidate.
    at::Tensor logP, P;
    std::int64_t firstTarget = 1;
    std::vector<at::Tensor> states; // base states at the 2L+1 sublayer boundaries (cached mode)
    std::vector<at::Tensor> last; // the last captured candidate's states
    std::vector<at::Tensor> kept; // the kept candidate's states
};

namespace {
std::int64_t scoredPositions(ScoreKind kind, std::int64_t T);
// FinerCut's scores keep the reference's log P and P for every candidate while they take at most
// this many bytes (its official 10 x 256 tokens of a 49,152-token vocabulary take 1 GB); beyond it,
// and for EvoPress's teacher, they are computed a slice at a time for each candidate.
constexpr double ReferenceCacheBytes = 1024.0 * 1024 * 1024;
} // namespace

bool scoreNeedsDense(ScoreKind kind)
{
    return kind != ScoreKind::NllSumSleb && kind != ScoreKind::MeanNll;
}

std::size_t windowsPerBatch(const Decoder &decoder, std::int64_t T, int requested)
{
    if (requested > 0)
        return static_cast<std::size_t>(requested);
    constexpr double Budget = 512.0 * 1024 * 1024;
    const Architecture &a = decoder.architecture();
    // A few residual-sized tensors (cached states, the block's intermediates) and two logit-sized
    // ones (logits, log-probabilities) per window, in float32.
    const double perWindow = static_cast<double>(T)
        * (8.0 * static_cast<double>(std::max(a.hidden, a.intermediate)) + 2.0 * static_cast<double>(a.vocab)) * 4.0;
    return static_cast<std::size_t>(std::max(1.0, std::floor(Budget / perWindow)));
}

int CalibrationScorer::firstDifference(const UnitMask &a, const UnitMask &b)
{
    for (int l = 0; l < a.layers(); ++l) {
        if (a.skipAttn[l] != b.skipAttn[l])
            return 2 * l;
        if (a.skipMlp[l] != b.skipMlp[l])
            return 2 * l + 1;
    }
    return 2 * a.layers();
}

CalibrationScorer::CalibrationScorer(const Decoder &decoder, std::vector<ScoredSequence> sequences, ScoreKind kind,
    int batch, bool cached, JobContext &job)
    : m_decoder(decoder)
    , m_kind(kind)
    , m_cached(cached)
    , m_job(job)
{
    c10::NoGradGuard noGrad;
    if (sequences.empty())
        throw std::invalid_argument("no calibration sequences to score on");
    const int L = decoder.layers();
    m_single = UnitMask{std::vector<bool>(L, true), std::vector<bool>(L, true)};
    m_base = UnitMask::dense(L);
    double cachedReferenceBytes = 0;
    // Sequences of equal shape go together, in their original order.
    std::map<std::pair<std::size_t, std::int64_t>, std::vector<std::size_t>> byShape;
    std::vector<std::pair<std::size_t, std::int64_t>> shapeOrder;
    for (std::size_t i = 0; i < sequences.size(); ++i) {
        const auto key = std::make_pair(sequences[i].ids.size(), sequences[i].firstTarget);
        if (sequences[i].ids.size() < 2)
            throw std::invalid_argument("calibration sequence " + std::to_string(i) + " is shorter than 2 tokens");
        if (!byShape.count(key))
            shapeOrder.push_back(key);
        byShape[key].push_back(i);
    }
    for (const auto &key : shapeOrder) {
        const auto &idx = byShape[key];
        const std::size_t per = windowsPerBatch(decoder, static_cast<std::int64_t>(key.first), batch);
        for (std::size_t at = 0; at < idx.size(); at += per) {
            const std::size_t n = std::min(per, idx.size() - at);
            const auto T = static_cast<std::int64_t>(key.first);
            Chunk c;
            c.firstTarget = key.second;
            c.tokens = at::empty({static_cast<std::int64_t>(n), T}, at::kLong);
            auto acc = c.tokens.accessor<std::int64_t, 2>();
            for (std::size_t b = 0; b < n; ++b) {
                const ScoredSequence &s = sequences[idx[at + b]];
                for (std::int64_t p = 0; p < T; ++p)
                    acc[static_cast<std::int64_t>(b)][p] = s.ids[p];
                if (scoreNeedsDense(kind) && s.teacher.defined())
                    c.reference.push_back(s.teacher.head(T));
            }
            if (scoreNeedsDense(kind) && c.reference.size() != n) {
                // The reference is the dense model on the same batch; not counted as search work.
                c.reference = denseReference(kind, decoder.forward(c.tokens, UnitMask::dense(L))).rows;
            }
            // log P and P of the reference kept (2 x 4 bytes an entry) while they fit the budget.
            const bool full = !c.reference.empty() && !c.reference.front().topK();
            const double bytes = 8.0 * static_cast<double>(n) * static_cast<double>(T)
                * static_cast<double>(decoder.architecture().vocab);
            const bool finercut = kind == ScoreKind::JsFinercut || kind == ScoreKind::KlFinercut;
            if (full && finercut && cachedReferenceBytes + bytes <= ReferenceCacheBytes) {
                cachedReferenceBytes += bytes;
                std::vector<at::Tensor> parts;
                for (const TeacherRows &r : c.reference)
                    parts.push_back(r.values.narrow(0, 0, scoredPositions(kind, T)));
                c.logP = at::log_softmax(at::stack(parts).to(decoder.options().device, at::kFloat), -1);
                c.P = c.logP.exp();
            }
            m_totalTokens += static_cast<std::int64_t>(n) * T;
            m_windows += static_cast<std::int64_t>(n);
            m_chunks.push_back(std::move(c));
        }
    }
}

CalibrationScorer::~CalibrationScorer() = default;

at::Tensor CalibrationScorer::runFrom(
    const Chunk &, at::Tensor h, int start, const UnitMask &mask, std::vector<at::Tensor> *states) const
{
    const int L = m_decoder.layers();
    if (!states) {
        // One call for the rest of the model; a start inside a block runs its MLP half first.
        int block = start / 2;
        if (start % 2 == 1 && block < L) {
            if (!mask.skipMlp[block]) {
                m_single.skipMlp[block] = false;
                h = m_decoder.forwardBlocks(h, block, block + 1, m_single);
                m_single.skipMlp[block] = true;
            }
            ++block;
        }
        // Block by block, so a cancel is seen within one block's forward, not one candidate's.
        return forwardBlocksCancellable(m_decoder, h, block, L, mask, &m_job);
    }
    // Sublayer by sublayer, keeping the state at every boundary.
    for (int s = start; s < 2 * L; ++s) {
        m_job.checkpoint();
        const int l = s / 2;
        const bool attn = s % 2 == 0;
        if (!(attn ? mask.skipAttn[l] : mask.skipMlp[l])) {
            std::vector<bool> &bits = attn ? m_single.skipAttn : m_single.skipMlp;
            bits[l] = false;
            h = m_decoder.forwardBlocks(h, l, l + 1, m_single);
            bits[l] = true;
        }
        (*states)[s + 1] = h;
    }
    return h;
}

namespace {
int aliveFrom(const UnitMask &mask, int start)
{
    int n = 0;
    for (int s = start; s < 2 * mask.layers(); ++s)
        n += !(s % 2 == 0 ? mask.skipAttn[s / 2] : mask.skipMlp[s / 2]);
    return n;
}
} // namespace

void CalibrationScorer::setBase(const UnitMask &base, bool count)
{
    c10::NoGradGuard noGrad;
    if (base.layers() != m_decoder.layers())
        throw std::invalid_argument("base mask has the wrong number of layers");
    m_base = base;
    m_hasBase = true;
    if (!m_cached)
        return;
    const int L = m_decoder.layers();
    for (Chunk &c : m_chunks) {
        m_job.checkpoint();
        c.states.assign(2 * L + 1, at::Tensor());
        c.states[0] = m_decoder.embed(c.tokens);
        runFrom(c, c.states[0], 0, base, &c.states);
        c.last.clear();
        c.kept.clear();
    }
    if (count)
        m_sublayerForwards += aliveFrom(base, 0);
}

TeacherSpec teacherSpec(const PruneOptions &options)
{
    TeacherSpec spec;
    if (!options.usesTeacher())
        return spec;
    if (options.teacher == "float16")
        spec.format = TeacherFormat::Float16;
    else if (options.teacher == "bfloat16")
        spec.format = TeacherFormat::BFloat16;
    else if (options.teacher == "top-k") {
        spec.format = TeacherFormat::TopK;
        spec.k = options.teacherTopK;
    }
    return spec;
}

TeacherRows TeacherRows::head(std::int64_t len) const
{
    TeacherRows r;
    r.values = values.narrow(0, 0, len);
    if (indices.defined())
        r.indices = indices.narrow(0, 0, len);
    return r;
}

std::int64_t TeacherRows::bytes() const
{
    std::int64_t n = values.defined() ? values.numel() * static_cast<std::int64_t>(values.element_size()) : 0;
    if (indices.defined())
        n += indices.numel() * static_cast<std::int64_t>(indices.element_size());
    return n;
}

TeacherRows makeTeacher(const at::Tensor &logits, const TeacherSpec &spec)
{
    TeacherRows r;
    const at::Tensor z = logits.to(at::kFloat);
    switch (spec.format) {
    case TeacherFormat::Float32: r.values = z.to(at::kCPU).contiguous(); break;
    case TeacherFormat::Float16: r.values = z.to(at::kHalf).to(at::kCPU).contiguous(); break;
    case TeacherFormat::BFloat16: r.values = z.to(at::kBFloat16).to(at::kCPU).contiguous(); break;
    case TeacherFormat::TopK: {
        const std::int64_t k = std::min<std::int64_t>(spec.k, z.size(-1));
        const at::Tensor logP = at::log_softmax(z, -1);
        const auto [top, ids] = logP.topk(k, -1, true, true);
        // The rest's mass summed directly (1 - sum(top) would cancel to noise or below zero).
        const at::Tensor rest = logP.exp().scatter(-1, ids, 0.0).sum(-1, true).log();
        r.values = at::cat({top, rest}, -1).to(at::kCPU).contiguous();
        r.indices = ids.to(at::kInt).to(at::kCPU).contiguous();
        break;
    }
    }
    return r;
}

DenseReference denseReference(ScoreKind kind, const at::Tensor &dense, const TeacherSpec &spec)
{
    DenseReference r;
    if (!scoreNeedsDense(kind) || !dense.defined())
        return r;
    for (std::int64_t b = 0; b < dense.size(0); ++b)
        r.rows.push_back(makeTeacher(dense[b], spec));
    return r;
}

namespace {

// Sums over the vocabulary in float32, then over rows in float64.
double total(const at::Tensor &t)
{
    return t.sum(-1).to(at::kDouble).sum().item<double>();
}

// One part of the reference (values or indices) at positions [t0, t0 + len) of every window,
// stacked [B, len, ...] on `device` as `dtype`.
at::Tensor stacked(const std::vector<TeacherRows> &rows, at::Tensor TeacherRows::*part, std::int64_t t0,
    std::int64_t len, c10::Device device, at::ScalarType dtype)
{
    std::vector<at::Tensor> parts;
    parts.reserve(rows.size());
    for (const TeacherRows &r : rows)
        parts.push_back((r.*part).narrow(0, t0, len));
    return at::stack(parts).to(device, dtype);
}
at::Tensor stackedValues(const std::vector<TeacherRows> &rows, std::int64_t t0, std::int64_t len, c10::Device device)
{
    return stacked(rows, &TeacherRows::values, t0, len, device, at::kFloat);
}

// A divergence's numerator over positions [t0, t0 + len) of a batch; z: the candidate's logits
// [B, len, V] float32 there. norm_finercut adds each window's squared distance to normSq [B].
void divergenceSlice(ScoreKind kind, const std::vector<TeacherRows> &rows, std::int64_t t0, const at::Tensor &z,
    double &num, at::Tensor &normSq, const at::Tensor &cachedLogP = {}, const at::Tensor &cachedP = {})
{
    const std::int64_t len = z.size(1);
    if (rows.size() != static_cast<std::size_t>(z.size(0)))
        throw std::logic_error("the dense reference has " + std::to_string(rows.size()) + " windows, the batch "
            + std::to_string(z.size(0)));
    const bool topK = rows.front().topK();
    if (topK && kind != ScoreKind::KlEvopress)
        throw std::logic_error("a top-K teacher serves only EvoPress's KL fitness");
    if (kind == ScoreKind::NormFinercut) {
        const at::Tensor d = stackedValues(rows, t0, len, z.device()) - z;
        normSq += d.pow(2).sum(-1).to(at::kDouble).sum(1);
        return;
    }
    const at::Tensor logQ = at::log_softmax(z, -1);
    if (topK) {
        // KL between the K+1 buckets: the kept tokens one by one, and all the others together.
        const at::Tensor v = stackedValues(rows, t0, len, z.device());
        const std::int64_t k = v.size(2) - 1;
        const at::Tensor ids = stacked(rows, &TeacherRows::indices, t0, len, z.device(), at::kLong);
        const at::Tensor logPk = v.narrow(2, 0, k);
        num += total(logPk.exp() * (logPk - logQ.gather(2, ids)));
        const at::Tensor logPrest = v.narrow(2, k, 1).squeeze(2).to(at::kDouble);
        const at::Tensor qRest = logQ.exp().scatter(2, ids, 0.0).sum(2).to(at::kDouble).clamp_min(1e-300);
        const at::Tensor pRest = logPrest.exp();
        num += at::where(pRest > 0, pRest * (logPrest - qRest.log()), at::zeros_like(pRest)).sum().item<double>();
        return;
    }
    const bool cached = cachedLogP.defined();
    const at::Tensor logP
        = cached ? cachedLogP.narrow(1, t0, len) : at::log_softmax(stackedValues(rows, t0, len, z.device()), -1);
    const at::Tensor P = cached ? cachedP.narrow(1, t0, len) : logP.exp();
    if (kind == ScoreKind::JsFinercut) {
        // ½[Σ M(log M − log P) + Σ M(log M − log Q)] = ½ Σ M(2 log M − log P − log Q)
        const at::Tensor M = 0.5 * (P + logQ.exp());
        num += 0.5 * total(M * (2.0 * M.clamp_min(1e-45).log() - logP - logQ));
    } else {
        num += total(P * (logP - logQ));
    }
}

// Positions a divergence scores: kl_evopress drops the last of each sequence, the FinerCut scores
// keep all.
std::int64_t scoredPositions(ScoreKind kind, std::int64_t T)
{
    return kind == ScoreKind::KlEvopress ? T - 1 : T;
}

void divergenceDenominator(ScoreKind kind, std::int64_t B, std::int64_t T, std::int64_t V, double &den)
{
    switch (kind) {
    case ScoreKind::KlEvopress: den += static_cast<double>(B * (T - 1)); return;
    case ScoreKind::KlFinercut:
    case ScoreKind::JsFinercut: den += static_cast<double>(B * T * V); return;
    case ScoreKind::NormFinercut: den += static_cast<double>(B); return;
    default: return;
    }
}

} // namespace

void accumulateScore(ScoreKind kind, const at::Tensor &tokens, std::int64_t firstTarget, const DenseReference &ref,
    const at::Tensor &logits, double &num, double &den)
{
    const std::int64_t B = logits.size(0), T = logits.size(1), V = logits.size(2);
    if (kind == ScoreKind::NllSumSleb || kind == ScoreKind::MeanNll) {
        const std::int64_t first = firstTarget;
        at::Tensor lp = at::log_softmax(logits.narrow(1, first - 1, T - first), -1);
        at::Tensor targets = tokens.narrow(1, first, T - first).to(lp.device());
        at::Tensor nll = -lp.gather(2, targets.unsqueeze(2)).squeeze(2).to(at::kDouble); // [B, T-first]
        if (kind == ScoreKind::NllSumSleb) {
            // Each window's mean NLL times T (not T-1), as SLEB's official code does.
            num += (nll.mean(1) * static_cast<double>(T)).sum().item<double>();
            den = 1;
        } else {
            num += nll.sum().item<double>();
            den += static_cast<double>(B * (T - first));
        }
        return;
    }
    at::Tensor normSq = at::zeros({B}, logits.options().dtype(at::kDouble));
    divergenceSlice(kind, ref.rows, 0, logits.narrow(1, 0, scoredPositions(kind, T)), num, normSq);
    if (kind == ScoreKind::NormFinercut)
        num += normSq.sqrt().sum().item<double>();
    divergenceDenominator(kind, B, T, V, den);
}

double scoreLogits(ScoreKind kind, const at::Tensor &tokens, std::int64_t firstTarget, const at::Tensor &dense,
    const at::Tensor &logits, const TeacherSpec &spec)
{
    double num = 0, den = 0;
    accumulateScore(kind, tokens, firstTarget, denseReference(kind, dense, spec), logits, num, den);
    return den > 0 ? num / den : 0.0;
}

namespace {

// Positions per slice of the LM head when a score is taken from the final hidden states: a slice's
// logits and log-probabilities stay within about this many bytes, whatever the vocabulary.
std::atomic<double> sliceBytesLimit{128.0 * 1024 * 1024};

// Positions per slice for a batch of B windows: `tensors` float32 [B, len, V] tensors alive at once.
std::int64_t slicePositions(std::int64_t B, std::int64_t V, double tensors)
{
    return std::max<std::int64_t>(1,
        static_cast<std::int64_t>(
            sliceBytesLimit.load() / (tensors * 4.0 * static_cast<double>(B) * std::max<std::int64_t>(V, 1))));
}

// The NLL scores (SLEB's Σ_w T·mean NLL, the mean NLL) from the final hidden states, without ever
// holding the [B, T, V] logits: the LM head, log-softmax and the targets' log-probabilities run a
// slice of positions at a time, and only each window's NLL sum (float64) is kept.
void accumulateNll(ScoreKind kind, const Decoder &decoder, const at::Tensor &tokens, std::int64_t firstTarget,
    const at::Tensor &hidden, double &num, double &den, const JobContext &job)
{
    const std::int64_t B = hidden.size(0), T = hidden.size(1);
    const std::int64_t V = decoder.architecture().vocab;
    const std::int64_t slice = slicePositions(B, V, 2.0);
    at::Tensor sums = at::zeros({B}, hidden.options().dtype(at::kDouble));
    const at::Tensor targetsAll = tokens.to(hidden.device());
    // Logits at position t predict token t + 1: positions firstTarget - 1 .. T - 2.
    for (std::int64_t t0 = firstTarget - 1; t0 < T - 1; t0 += slice) {
        job.checkpoint(); // a large vocabulary's head is seconds of a candidate: stop within a slice
        const std::int64_t len = std::min(slice, T - 1 - t0);
        const at::Tensor lp = at::log_softmax(decoder.logits(hidden.narrow(1, t0, len)), -1);
        const at::Tensor targets = targetsAll.narrow(1, t0 + 1, len);
        sums -= lp.gather(2, targets.unsqueeze(2)).squeeze(2).to(at::kDouble).sum(1);
    }
    const std::int64_t predicted = T - firstTarget;
    if (kind == ScoreKind::NllSumSleb) {
        // Each window's mean NLL times T (not T-1), as SLEB's official code does.
        num += (sums / static_cast<double>(predicted) * static_cast<double>(T)).sum().item<double>();
        den = 1;
    } else {
        num += sums.sum().item<double>();
        den += static_cast<double>(B * predicted);
    }
}

// A divergence from the final hidden states: the candidate's logits a slice of positions at a
// time, each compared with the same positions of the reference.
void accumulateDivergence(ScoreKind kind, const Decoder &decoder, const std::vector<TeacherRows> &rows,
    const at::Tensor &hidden, double &num, double &den, const at::Tensor &cachedLogP, const at::Tensor &cachedP,
    const JobContext &job)
{
    const std::int64_t B = hidden.size(0), T = hidden.size(1);
    const std::int64_t V = decoder.architecture().vocab;
    // The candidate's logits, log Q, and the reference's logits, log P, P (or M) at once.
    const std::int64_t slice = slicePositions(B, V, 6.0);
    const std::int64_t positions = scoredPositions(kind, T);
    at::Tensor normSq = at::zeros({B}, hidden.options().dtype(at::kDouble));
    for (std::int64_t t0 = 0; t0 < positions; t0 += slice) {
        job.checkpoint();
        const std::int64_t len = std::min(slice, positions - t0);
        divergenceSlice(kind, rows, t0, decoder.logits(hidden.narrow(1, t0, len)), num, normSq, cachedLogP, cachedP);
    }
    if (kind == ScoreKind::NormFinercut)
        num += normSq.sqrt().sum().item<double>();
    divergenceDenominator(kind, B, T, V, den);
}

} // namespace

HiddenQuality qualityFromHidden(const Decoder &decoder, const at::Tensor &tokens, std::int64_t firstTarget,
    const at::Tensor &hidden, const at::Tensor &denseHidden)
{
    const std::int64_t B = hidden.size(0), T = hidden.size(1);
    const std::int64_t V = decoder.architecture().vocab;
    const bool withKl = denseHidden.defined();
    // log Q, and with the KL log P, P and their product at once.
    const std::int64_t slice = slicePositions(B, V, withKl ? 6.0 : 2.0);
    const at::Tensor targetsAll = tokens.to(hidden.device());
    HiddenQuality q;
    q.nllSums = at::zeros({B}, hidden.options().dtype(at::kDouble));
    // Logits at position t predict token t + 1: the NLL over positions firstTarget-1 .. T-2, the KL
    // over 0 .. T-2.
    for (std::int64_t t0 = withKl ? 0 : firstTarget - 1; t0 < T - 1; t0 += slice) {
        const std::int64_t len = std::min(slice, T - 1 - t0);
        const at::Tensor logQ = at::log_softmax(decoder.logits(hidden.narrow(1, t0, len)), -1);
        const std::int64_t from = std::max(t0, firstTarget - 1);
        if (from < t0 + len) {
            const at::Tensor lp = logQ.narrow(1, from - t0, t0 + len - from);
            const at::Tensor targets = targetsAll.narrow(1, from + 1, t0 + len - from);
            q.nllSums -= lp.gather(2, targets.unsqueeze(2)).squeeze(2).to(at::kDouble).sum(1);
        }
        if (withKl) {
            const at::Tensor logP = at::log_softmax(decoder.logits(denseHidden.narrow(1, t0, len)), -1);
            q.klSum += (logP.exp() * (logP - logQ)).sum(-1).to(at::kDouble).sum().item<double>();
        }
    }
    return q;
}

void CalibrationScorer::setSliceBytes(double bytes)
{
    sliceBytesLimit = bytes;
}

double CalibrationScorer::sliceBytes()
{
    return sliceBytesLimit.load();
}

double CalibrationScorer::score(const UnitMask &candidate, bool capture, double stopAbove)
{
    c10::NoGradGuard noGrad;
    if (candidate.layers() != m_decoder.layers())
        throw std::invalid_argument("candidate mask has the wrong number of layers");
    const int L = m_decoder.layers();
    const bool fromCache = m_cached && m_hasBase;
    const int start = fromCache ? firstDifference(m_base, candidate) : 0;
    double num = 0, den = 0;
    const bool mayStop = std::isfinite(stopAbove);
    if (mayStop && m_kind != ScoreKind::NllSumSleb)
        throw std::logic_error("only SLEB's NLL sum stops early");
    m_lastStopped = false;
    m_lastTokens = 0;
    for (Chunk &c : m_chunks) {
        // Every window adds a non-negative NLL: past the best score by more than a near tie, the
        // complete score would be too (and not a near tie of it), so the candidate cannot win.
        if (mayStop && num * (1.0 - 1e-6) > stopAbove) {
            m_lastStopped = true;
            break;
        }
        m_job.checkpoint();
        m_lastTokens += c.tokens.numel();
        at::Tensor h;
        if (fromCache) {
            if (capture) {
                c.last.assign(2 * L + 1, at::Tensor());
                h = runFrom(c, c.states[start], start, candidate, &c.last);
            } else {
                h = runFrom(c, c.states[start], start, candidate, nullptr);
            }
        } else {
            h = runFrom(c, m_decoder.embed(c.tokens), 0, candidate, nullptr);
        }
        if (m_kind == ScoreKind::NllSumSleb || m_kind == ScoreKind::MeanNll)
            accumulateNll(m_kind, m_decoder, c.tokens, c.firstTarget, h, num, den, m_job);
        else
            accumulateDivergence(m_kind, m_decoder, c.reference, h, num, den, c.logP, c.P, m_job);
    }
    m_last = candidate;
    m_lastFrom = start;
    ++m_evaluations;
    m_sublayerForwards += aliveFrom(candidate, start);
    m_tokens += m_lastTokens;
    return den > 0 ? num / den : 0.0;
}

void CalibrationScorer::credit(const UnitMask &candidate, std::int64_t tokens)
{
    const int start = m_cached && m_hasBase ? firstDifference(m_base, candidate) : 0;
    ++m_evaluations;
    m_sublayerForwards += aliveFrom(candidate, start);
    m_tokens += tokens < 0 ? m_totalTokens : tokens;
}

void CalibrationScorer::keepLast()
{
    m_kept = m_last;
    m_keptFrom = m_lastFrom;
    if (m_cached)
        for (Chunk &c : m_chunks)
            c.kept.swap(c.last);
}

void CalibrationScorer::adoptKept()
{
    if (m_cached && m_hasBase) {
        const int L = m_decoder.layers();
        for (Chunk &c : m_chunks) {
            if (c.kept.empty())
                throw std::logic_error("adoptKept() without a captured candidate");
            for (int s = m_keptFrom + 1; s <= 2 * L; ++s)
                c.states[s] = c.kept[s];
            c.kept.clear();
            c.last.clear();
        }
    }
    m_base = m_kept;
    m_hasBase = true;
}

} // namespace blockscope
