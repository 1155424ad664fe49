// SLEB (pruning.md §3) and FinerCut (§4): greedy removal, every remaining candidate re-scored at
// every step, the best candidate's residual states becoming the next step's cache.

#include "common/formaterror.h"
#include "jobs/jobcontext.h"
#include "searchcommon.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace blockscope {

namespace {

struct Counters
{
    std::int64_t evaluations = 0, unitForwards = 0, tokens = 0;
    static Counters from(const std::vector<TraceStep> &steps)
    {
        if (steps.empty())
            return {};
        const TraceStep &s = steps.back();
        return {s.evaluations, s.unitForwards, s.tokens};
    }
};

bool anyNearTie(const std::vector<CandidateScore> &candidates, std::size_t chosen)
{
    for (std::size_t i = 0; i < candidates.size(); ++i)
        if (i != chosen && nearTie(candidates[i].score, candidates[chosen].score))
            return true;
    return false;
}

// Records what every greedy step records once its unit is chosen, and hands the step out.
// `sublayersPerUnit` converts the scorer's sublayer count into the method's unit (SLEB: blocks).
void emitGreedyStep(SearchContext &ctx, TraceStep step, const Unit &chosen, std::size_t chosenCandidate,
    const UnitMask &mask, const std::vector<Unit> &removed, const Counters &base, const CalibrationScorer &scorer,
    int sublayersPerUnit)
{
    step.chosen = {chosen};
    step.chosenScore = step.candidates[chosenCandidate].score;
    step.nearTie = anyNearTie(step.candidates, chosenCandidate);
    step.mask = mask;
    step.removedSoFar = removed;
    step.evaluations = base.evaluations + scorer.evaluations();
    step.unitForwards = base.unitForwards + scorer.sublayerForwards() / sublayersPerUnit;
    step.tokens = base.tokens + scorer.tokens();
    ctx.emit(std::move(step));
}

// Scores one candidate of a greedy step, or takes its score from the interrupted run (crediting
// the work it stands for); the best candidate's states are kept as they come.
struct GreedyStep
{
    SearchContext &ctx;
    CalibrationScorer &scorer;
    int step;
    double best = std::numeric_limits<double>::infinity();
    bool bestRecalled = false;

    // True when the candidate is the best so far (strictly: ties keep the earlier one).
    bool score(TraceStep &t, const UnitMask &candidate, const Unit &unit, int position)
    {
        const int index = static_cast<int>(t.candidates.size());
        const std::string what = unit.label();
        double s;
        const std::optional<double> known = ctx.recall(step, 0, index, what);
        if (known) {
            s = *known;
            scorer.credit(candidate);
        } else {
            s = scorer.score(candidate, true);
            ctx.scored(step, 0, index, what, s);
        }
        t.candidates.push_back({unit, s, position});
        if (!(s < best))
            return false;
        best = s;
        bestRecalled = known.has_value();
        if (!known)
            scorer.keepLast();
        return true;
    }

    // Makes the configuration after the step the scorer's base: the kept states, or (when the best
    // candidate's score came from the interrupted run) a rebuild not counted as search work.
    void adopt(const UnitMask &after)
    {
        if (bestRecalled)
            scorer.setBase(after, false);
        else
            scorer.adoptKept();
    }
};

ScoreKind finercutScore(const std::string &metric)
{
    if (metric == "kl")
        return ScoreKind::KlFinercut;
    if (metric == "norm")
        return ScoreKind::NormFinercut;
    return ScoreKind::JsFinercut;
}

} // namespace

void runSleb(SearchContext &ctx)
{
    const PruneOptions &o = ctx.options;
    const int L = ctx.layers;
    const int K = o.targetCount(L);
    ctx.job.stage("SLEB: calibration");
    CalibrationScorer scorer(
        ctx.decoder, ctx.sequences(ScoreKind::NllSumSleb), ScoreKind::NllSumSleb, o.batch, o.cached, ctx.job);

    UnitMask mask = UnitMask::dense(L);
    std::vector<int> alive(L);
    for (int l = 0; l < L; ++l)
        alive[l] = l;
    std::vector<Unit> removed;
    if (!ctx.resume.empty()) {
        const TraceStep &last = ctx.resume.back();
        mask = last.mask;
        removed = last.removedSoFar;
        for (const Unit &u : removed)
            alive.erase(std::remove(alive.begin(), alive.end(), u.layer), alive.end());
    }
    const Counters base = Counters::from(ctx.resume);
    // A resumed search rebuilds its cache; that work is not part of the search's own count.
    scorer.setBase(mask, ctx.resume.empty());

    ctx.job.stage("SLEB: removing blocks");
    for (int phase = static_cast<int>(ctx.resume.size()); phase < K; ++phase) {
        const int n = static_cast<int>(alive.size());
        TraceStep step;
        step.index = phase;
        step.kind = "phase";
        GreedyStep greedy{ctx, scorer, phase};
        int bestPos = -1;
        std::size_t bestCandidate = 0;
        const int lastPos = n - o.latterBarrier - 1;
        for (int j = o.earlyBarrier; j <= lastPos; ++j) {
            if (ctx.isProtected(alive[j]))
                continue;
            UnitMask cand = mask;
            cand.skipBlock(alive[j]);
            if (greedy.score(step, cand, Unit{UnitKind::Block, alive[j]}, j)) { // lowest alive position wins ties
                bestPos = j;
                bestCandidate = step.candidates.size() - 1;
            }
            ctx.job.progress(phase + static_cast<double>(j) / n, K);
        }
        if (bestPos < 0)
            throw UsageError("SLEB has no block left to remove at phase " + std::to_string(phase)
                + ": every alive block is a barrier or protected");
        const Unit chosen{UnitKind::Block, alive[bestPos]};
        chosen.applyTo(mask);
        greedy.adopt(mask);
        removed.push_back(chosen);
        alive.erase(alive.begin() + bestPos);

        emitGreedyStep(ctx, std::move(step), chosen, bestCandidate, mask, removed, base, scorer, 2);
    }
}

void runFinerCut(SearchContext &ctx)
{
    const PruneOptions &o = ctx.options;
    const int L = ctx.layers;
    const ScoreKind kind = finercutScore(o.finercutMetric);

    // U: the units of the level, sorted by their HF-style names as byte strings.
    std::vector<Unit> all;
    for (int l = 0; l < L; ++l) {
        if (o.finercutLevel == "block") {
            all.push_back({UnitKind::Block, l});
            continue;
        }
        if (o.finercutLevel != "m")
            all.push_back({UnitKind::Attention, l});
        if (o.finercutLevel != "a")
            all.push_back({UnitKind::Mlp, l});
    }
    std::stable_sort(all.begin(), all.end(), [](const Unit &a, const Unit &b) { return a.hfName() < b.hfName(); });
    const auto U = static_cast<std::int64_t>(all.size());
    const auto E = static_cast<int>(std::floor(static_cast<double>(U) * o.excludeFraction / 2.0)) + 1;
    const auto readmitAt = static_cast<std::size_t>(std::floor(static_cast<double>(U) * o.excludeFraction)) + 1;
    std::vector<Unit> candidates, excluded;
    for (const Unit &u : all) {
        if (ctx.isProtected(u.layer))
            continue;
        (u.layer < E ? excluded : candidates).push_back(u);
    }
    const int S = std::min(o.targetCount(L), static_cast<int>(candidates.size() + excluded.size()));

    ctx.job.stage("FinerCut: dense reference");
    CalibrationScorer scorer(ctx.decoder, ctx.sequences(kind), kind, o.batch, o.cached, ctx.job);

    UnitMask mask = UnitMask::dense(L);
    std::vector<Unit> pruned;
    bool readmitted = false;
    auto readmit = [&] {
        candidates.insert(candidates.end(), excluded.begin(), excluded.end());
        excluded.clear();
        readmitted = true;
    };
    // Replays a resumed run's choices: the candidate list evolves deterministically from them.
    for (const TraceStep &s : ctx.resume) {
        for (const Unit &u : s.chosen) {
            auto it = std::find(candidates.begin(), candidates.end(), u);
            if (it == candidates.end())
                throw UsageError("cannot resume FinerCut: step " + std::to_string(s.index) + " removed " + u.label()
                    + ", which is not a candidate at that point; the run was made with other options");
            candidates.erase(it);
            pruned.push_back(u);
            u.applyTo(mask);
        }
        if ((pruned.size() == readmitAt || candidates.empty()) && !readmitted)
            readmit();
    }
    const Counters base = Counters::from(ctx.resume);
    scorer.setBase(mask, ctx.resume.empty());

    ctx.job.stage("FinerCut: removing sublayers");
    for (int step = static_cast<int>(ctx.resume.size()); step < S; ++step) {
        if (candidates.empty() && !readmitted)
            readmit();
        if (candidates.empty())
            break;
        TraceStep t;
        t.index = step;
        t.kind = "step";
        GreedyStep greedy{ctx, scorer, step};
        std::size_t k = 0;
        for (std::size_t i = 0; i < candidates.size(); ++i) {
            UnitMask cand = mask;
            candidates[i].applyTo(cand);
            if (greedy.score(t, cand, candidates[i], static_cast<int>(i))) // the first minimum in list order wins
                k = i;
            ctx.job.progress(step + static_cast<double>(i) / candidates.size(), S);
        }
        const Unit chosen = candidates[k];
        {
            UnitMask after = mask;
            chosen.applyTo(after);
            greedy.adopt(after);
        }
        candidates.erase(candidates.begin() + static_cast<std::ptrdiff_t>(k));
        pruned.push_back(chosen);
        chosen.applyTo(mask);
        if (!readmitted && (pruned.size() == readmitAt || candidates.empty())) {
            readmit();
            t.readmitted = true;
        }
        emitGreedyStep(ctx, std::move(t), chosen, k, mask, pruned, base, scorer, 1);
    }
}

} // namespace blockscope
