#include "prunesearch.h"

#include "common/formaterror.h"
#include "dist/processgroup.h"
#include "eval/batching.h"
#include "eval/perplexity.h"
#include "eval/windows.h"
#include "jobs/jobcontext.h"
#include "model/decoder.h"
#include "searchcommon.h"

#include <ATen/ATen.h>
#include <algorithm>
#include <c10/core/GradMode.h>
#include <cmath>
#include <map>

namespace blockscope {

namespace {

// Dense evaluation logits are kept between steps when they take no more than this.
constexpr double DenseEvalCacheBytes = 512.0 * 1024 * 1024;

} // namespace

SearchContext::SearchContext(const Decoder &d, const WindowSet &calib, const WindowSet *evaluation,
    const PruneOptions &o, JobContext &j, const std::function<void(const TraceStep &)> &onStep, PruneResult &r,
    const std::vector<TraceStep> &resumeSteps, const std::vector<CandidateRecord> &pending,
    const std::function<void(const CandidateRecord &)> &onCandidate, dist::Group *group)
    : decoder(d)
    , calibration(calib)
    , options(o)
    , job(j)
    , result(r)
    , resume(resumeSteps)
    , layers(d.layers())
    , m_evaluation(evaluation && !evaluation->windows.empty() ? evaluation : nullptr)
    , m_onStep(onStep)
    , m_start(std::chrono::steady_clock::now())
    , m_offset(resumeSteps.empty() ? 0.0 : resumeSteps.back().seconds)
    , m_onCandidate(onCandidate)
    , m_group(group != nullptr && group->world() > 1 ? group : nullptr)
{
    result.steps = resumeSteps;
    const auto next = static_cast<int>(resumeSteps.size());
    for (const CandidateRecord &c : pending)
        if (c.step == next)
            m_pending[{c.step, c.stage, c.index}] = c;
    if (m_evaluation && options.evaluateSteps) {
        job.stage("dense perplexity");
        result.densePerplexity = evaluate(UnitMask::dense(layers)).perplexity;
    }
}

double SearchContext::elapsed() const
{
    return m_offset + std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
}

std::optional<double> SearchContext::recall(int step, int stage, int index, const std::string &what)
{
    const auto r = recallRecord(step, stage, index, what);
    if (r && r->lowerBound)
        throw UsageError("cannot resume inside step " + std::to_string(step) + ": its candidate "
            + std::to_string(index) + " was stopped early, which this search does not do");
    return r ? std::optional<double>(r->score) : std::nullopt;
}

std::optional<CandidateRecord> SearchContext::recallRecord(int step, int stage, int index, const std::string &what)
{
    const auto it = m_pending.find({step, stage, index});
    if (it == m_pending.end())
        return std::nullopt;
    if (it->second.what != what)
        throw UsageError("cannot resume inside step " + std::to_string(step) + ": its candidate "
            + std::to_string(index) + (stage ? " of stage " + std::to_string(stage) : std::string()) + " was "
            + it->second.what + ", the search now has " + what + "; the run was made with other options or data");
    ++m_recalled;
    return it->second;
}

void SearchContext::scored(int step, int stage, int index, const std::string &what, double score) const
{
    scored(CandidateRecord{step, stage, index, what, score});
}

void SearchContext::scored(const CandidateRecord &record) const
{
    if (m_onCandidate)
        m_onCandidate(record);
}

bool SearchContext::isRoot() const
{
    return m_group == nullptr || m_group->isRoot();
}

bool SearchContext::mine(std::size_t place) const
{
    return m_group == nullptr
        || place % static_cast<std::size_t>(m_group->world()) == static_cast<std::size_t>(m_group->rank());
}

SearchContext::Work SearchContext::share(std::vector<Shared> &scores, const std::vector<bool> &own, const Work &ownWork)
{
    if (m_group == nullptr)
        return ownWork;
    // Four numbers a candidate, then the work: zeros where another rank has the entry.
    constexpr std::size_t Fields = 4;
    std::vector<double> v(scores.size() * Fields + 3, 0.0);
    for (std::size_t i = 0; i < scores.size(); ++i) {
        if (!own[i])
            continue;
        v[i * Fields] = scores[i].score;
        v[i * Fields + 1] = scores[i].lowerBound ? 1.0 : 0.0;
        v[i * Fields + 2] = static_cast<double>(scores[i].tokens);
        v[i * Fields + 3] = scores[i].fresh ? 1.0 : 0.0;
    }
    const std::size_t w = scores.size() * Fields;
    v[w] = static_cast<double>(ownWork.evaluations);
    v[w + 1] = static_cast<double>(ownWork.forwards);
    v[w + 2] = static_cast<double>(ownWork.tokens);
    m_group->sum(v);
    for (std::size_t i = 0; i < scores.size(); ++i) {
        if (own[i])
            continue;
        scores[i] = {v[i * Fields], v[i * Fields + 1] != 0, static_cast<std::int64_t>(v[i * Fields + 2]),
            v[i * Fields + 3] != 0};
        m_recalled += !scores[i].fresh;
    }
    return {static_cast<std::int64_t>(v[w]), static_cast<std::int64_t>(v[w + 1]), static_cast<std::int64_t>(v[w + 2])};
}

bool SearchContext::isProtected(int layer) const
{
    return std::find(options.protectedBlocks.begin(), options.protectedBlocks.end(), layer)
        != options.protectedBlocks.end();
}

std::vector<ScoredSequence> SearchContext::sequences(ScoreKind kind) const
{
    c10::NoGradGuard noGrad;
    std::size_t n = calibration.windows.size();
    if (options.calibrationWindows > 0)
        n = std::min(n, static_cast<std::size_t>(options.calibrationWindows));
    std::vector<ScoredSequence> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        out[i].ids = calibration.windows[i].ids;
        out[i].firstTarget = calibration.windows[i].firstTarget;
    }
    if (!scoreNeedsDense(kind))
        return out;
    WindowSet head;
    head.windows.assign(calibration.windows.begin(), calibration.windows.begin() + static_cast<std::ptrdiff_t>(n));
    const std::size_t per
        = windowsPerBatch(decoder, static_cast<std::int64_t>(head.windows.front().ids.size()), options.batch);
    const TeacherSpec spec = teacherSpec(options);
    for (const auto &idx : equalShapeBatches(head, per)) {
        job.checkpoint();
        at::Tensor z = decoder.forward(batchTokens(head, idx), UnitMask::dense(layers));
        for (std::size_t b = 0; b < idx.size(); ++b)
            out[idx[b]].teacher = makeTeacher(z[static_cast<std::int64_t>(b)], spec);
    }
    return out;
}

SearchContext::Quality SearchContext::evaluate(const UnitMask &mask)
{
    c10::NoGradGuard noGrad;
    const auto key = std::make_pair(mask.skipAttn, mask.skipMlp);
    if (auto it = m_memo.find(key); it != m_memo.end())
        return it->second;
    const WindowSet &set = *m_evaluation;
    const std::size_t per = std::min<std::size_t>(
        windowsPerBatch(decoder, static_cast<std::int64_t>(set.windows.front().ids.size()), options.batch), 16);
    const auto groups = equalShapeBatches(set, per);
    const bool isDense = mask.skippedUnits() == 0;
    // The dense model's final hidden states (not its logits: d numbers a position instead of V) are
    // kept between steps when they fit; its logits are recomputed a slice at a time.
    double cacheBytes = 0;
    for (const auto &w : set.windows)
        cacheBytes += static_cast<double>(w.ids.size()) * static_cast<double>(decoder.architecture().hidden) * 4.0;
    const bool keepDense = cacheBytes <= DenseEvalCacheBytes;
    std::vector<double> sums(set.windows.size());
    std::vector<std::int64_t> counts(set.windows.size());
    // Per batch, so that the KL adds up in batch order whichever rank ran a batch.
    std::vector<double> klParts(groups.size(), 0.0);
    std::int64_t klTokens = 0;
    const UnitMask dense = UnitMask::dense(layers);
    job.stage("evaluating the configuration");
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const auto &idx = groups[g];
        const std::int64_t first = set.windows[idx.front()].firstTarget;
        const auto T = static_cast<std::int64_t>(set.windows[idx.front()].ids.size());
        for (std::size_t b = 0; b < idx.size(); ++b)
            counts[idx[b]] = T - first;
        klTokens += static_cast<std::int64_t>(idx.size()) * (T - 1);
        if (!mine(g))
            continue;
        job.checkpoint();
        const at::Tensor tokens = batchTokens(set, idx);
        at::Tensor denseHidden;
        if (const auto kept = m_denseEval.find(g); kept != m_denseEval.end()) {
            denseHidden = kept->second;
        } else {
            denseHidden = forwardBlocksCancellable(decoder, decoder.embed(tokens), 0, layers, dense, &job);
            if (keepDense)
                m_denseEval.emplace(g, denseHidden);
        }
        const at::Tensor hidden
            = isDense ? denseHidden : forwardBlocksCancellable(decoder, decoder.embed(tokens), 0, layers, mask, &job);
        // The KL of the dense model to itself is 0: only its NLL is needed.
        const HiddenQuality part
            = qualityFromHidden(decoder, tokens, first, hidden, isDense ? at::Tensor() : denseHidden);
        klParts[g] = part.klSum;
        const at::Tensor nllCpu = part.nllSums.cpu();
        for (std::size_t b = 0; b < idx.size(); ++b)
            sums[idx[b]] = nllCpu[static_cast<std::int64_t>(b)].item<double>();
    }
    if (m_group != nullptr) { // each entry comes from one rank: the sum is exact
        std::vector<double> all = sums;
        all.insert(all.end(), klParts.begin(), klParts.end());
        m_group->sum(all);
        std::copy(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(sums.size()), sums.begin());
        std::copy(all.begin() + static_cast<std::ptrdiff_t>(sums.size()), all.end(), klParts.begin());
    }
    double klSum = 0;
    for (double k : klParts)
        klSum += k;
    Quality q{reducePerplexity(set.protocol.formula, sums, counts), klTokens ? klSum / klTokens : 0.0};
    m_memo.emplace(key, q);
    return q;
}

void SearchContext::emit(TraceStep step)
{
    if (m_evaluation && options.evaluateSteps) {
        const Quality q = evaluate(step.mask);
        step.perplexity = q.perplexity;
        step.klToDense = q.kl;
    }
    step.seconds = elapsed();
    result.steps.push_back(step);
    if (m_onStep)
        m_onStep(result.steps.back());
}

std::int64_t searchCalibrationTokens(const PruneOptions &options, const WindowSet &calibration)
{
    std::size_t used = calibration.windows.size();
    if (options.calibrationWindows > 0)
        used = std::min(used, static_cast<std::size_t>(options.calibrationWindows));
    std::int64_t tokens = 0;
    for (std::size_t i = 0; i < used; ++i)
        tokens += static_cast<std::int64_t>(calibration.windows[i].ids.size());
    return tokens;
}

void checkSearchOptions(const PruneOptions &options, int layers, std::int64_t vocab, const WindowSet &calibration)
{
    if (calibration.windows.empty())
        throw UsageError("no calibration windows: the calibration text is shorter than one window");
    const std::int64_t tokens = searchCalibrationTokens(options, calibration);
    options.validate(layers, tokens);
    options.checkTeacherBudget(tokens, vocab);
}

PruneResult runPruneSearch(const Decoder &decoder, const WindowSet &calibration, const WindowSet *evaluation,
    const PruneOptions &options, JobContext &job, const StepCallback &onStep, const std::vector<TraceStep> &resume,
    const DenseCallback &onDense, const std::vector<CandidateRecord> &pending, const CandidateCallback &onCandidate,
    dist::Group *group)
{
    checkSearchOptions(options, decoder.layers(), decoder.architecture().vocab, calibration);
    for (const TraceStep &s : resume)
        if (s.mask.layers() != decoder.layers())
            throw UsageError("the steps to resume from are for a model of " + std::to_string(s.mask.layers())
                + " blocks, this model has " + std::to_string(decoder.layers()));

    PruneResult result;
    result.options = options;
    result.layers = decoder.layers();
    SearchContext ctx(
        decoder, calibration, evaluation, options, job, onStep, result, resume, pending, onCandidate, group);
    if (onDense && !std::isnan(result.densePerplexity))
        onDense(result.densePerplexity);
    switch (options.method) {
    case PruneMethod::Sleb: runSleb(ctx); break;
    case PruneMethod::FinerCut: runFinerCut(ctx); break;
    case PruneMethod::EvoPress: runEvoPress(ctx); break;
    case PruneMethod::ShortGpt: runShortGpt(ctx); break;
    case PruneMethod::Angular: runAngular(ctx); break;
    }
    if (!result.steps.empty()) {
        result.finalMask = result.steps.back().mask;
        result.removalOrder = result.steps.back().removedSoFar;
    } else {
        result.finalMask = UnitMask::dense(decoder.layers());
    }
    result.complete = true;
    result.recalledCandidates = ctx.recalled();
    return result;
}

} // namespace blockscope
