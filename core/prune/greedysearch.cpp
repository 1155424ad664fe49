// SLEB (pruning.md §3) and FinerCut (§4): greedy removal, every remaining candidate re-scored at
// every step, the best candidate's residual states becoming the next step's cache.

#include "common/formaterror.h"
#include "jobs/jobcontext.h"
#include "model/decoder.h"
#include "searchcommon.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
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
    const UnitMask &mask, const std::vector<Unit> &removed, const Counters &base, const Counters &others,
    const CalibrationScorer &scorer, int sublayersPerUnit)
{
    step.chosen = {chosen};
    step.chosenScore = step.candidates[chosenCandidate].score;
    step.nearTie = anyNearTie(step.candidates, chosenCandidate);
    step.mask = mask;
    step.removedSoFar = removed;
    // `others` counts sublayers, as the scorer does: the sum is divided once, as one process would.
    step.evaluations = base.evaluations + others.evaluations + scorer.evaluations();
    step.unitForwards = base.unitForwards + (others.unitForwards + scorer.sublayerForwards()) / sublayersPerUnit;
    step.tokens = base.tokens + others.tokens + scorer.tokens();
    ctx.emit(std::move(step));
}

// Scores one candidate of a greedy step, or takes its score from the interrupted run (crediting
// the work it stands for); the best candidate's states are kept as they come. With ranks, each
// scores its own candidates and finish() brings in the others'.
struct GreedyStep
{
    SearchContext &ctx;
    CalibrationScorer &scorer;
    int step;
    Counters &others; // work the other ranks did on their candidates, all steps so far (sublayers)
    bool earlyStop = false; // SLEB with PruneOptions::earlyStop
    double best = std::numeric_limits<double>::infinity();
    int bestIndex = -1;
    bool bestRecalled = false;
    std::vector<bool> own = {}; // candidates this rank scored
    std::vector<SearchContext::Shared> outcome = {}; // theirs, as the ranks exchange them
    SearchContext::Work ownWork = {};

    // Scores candidate `index` of the step's list (t.candidates has room for all of them; they may
    // be scored in any order). The best so far is the lowest score, and on equal scores the lowest
    // index, so the choice is the first minimum in list order whatever the order.
    void score(TraceStep &t, int index, const UnitMask &candidate, const Unit &unit, int position)
    {
        const std::string what = unit.label();
        const SearchContext::Work before = SearchContext::Work::of(scorer);
        double s;
        bool bound = false;
        const std::optional<CandidateRecord> known = ctx.recallRecord(step, 0, index, what);
        if (known) {
            s = known->score;
            bound = known->lowerBound;
            scorer.credit(candidate, bound ? known->tokens : -1);
        } else {
            s = scorer.score(candidate, true, earlyStop ? best : std::numeric_limits<double>::infinity());
            bound = scorer.lastWasLowerBound();
            ctx.scored({step, 0, index, what, s, bound, bound ? scorer.lastTokens() : 0});
        }
        ownWork = ownWork + (SearchContext::Work::of(scorer) - before);
        const auto i = static_cast<std::size_t>(index);
        own.resize(t.candidates.size());
        outcome.resize(t.candidates.size());
        own[i] = true;
        outcome[i] = {s, bound, bound ? (known ? known->tokens : scorer.lastTokens()) : 0, !known};
        t.candidates[i] = {unit, s, position, bound};
        if (bound || !(s < best || (s == best && index < bestIndex)))
            return;
        best = s;
        bestIndex = index;
        bestRecalled = known.has_value();
        if (!known)
            scorer.keepLast();
    }

    // Completes the step's candidates with the other ranks' scores (their units and positions are
    // filled in already) and returns the index of the chosen one, -1 when none could be.
    int finish(TraceStep &t)
    {
        if (ctx.group() == nullptr)
            return bestIndex;
        const std::size_t n = t.candidates.size();
        own.resize(n);
        outcome.resize(n);
        const SearchContext::Work all = ctx.share(outcome, own, ownWork);
        others.evaluations += all.evaluations - ownWork.evaluations;
        others.unitForwards += all.forwards - ownWork.forwards;
        others.tokens += all.tokens - ownWork.tokens;
        int chosen = -1;
        double low = std::numeric_limits<double>::infinity();
        for (std::size_t i = 0; i < n; ++i) {
            CandidateScore &c = t.candidates[i];
            if (!own[i]) {
                c.score = outcome[i].score;
                c.lowerBound = outcome[i].lowerBound;
                if (outcome[i].fresh)
                    ctx.scored(
                        {step, 0, static_cast<int>(i), c.unit.label(), c.score, c.lowerBound, outcome[i].tokens});
            }
            if (!c.lowerBound && c.score < low) {
                low = c.score;
                chosen = static_cast<int>(i);
            }
        }
        // This rank's kept states are the chosen candidate's only when it scored it itself.
        if (chosen != bestIndex)
            bestRecalled = true;
        bestIndex = chosen;
        return chosen;
    }

    // Makes the configuration after the step the scorer's base: the kept states, or (when the best
    // candidate's score came from the interrupted run or another rank) a rebuild not counted as
    // search work.
    void adopt(const UnitMask &after)
    {
        if (bestRecalled)
            scorer.setBase(after, false);
        else
            scorer.adoptKept();
    }
};

// A greedy search's progress in work rather than in steps: a candidate costs the sublayers it
// runs (from where it differs from the base when cached, all of them when not) and the LM head,
// in multiply-adds per token; later steps have fewer candidates, each a little cheaper. So the
// fraction, and the remaining time estimated from it, do not assume steps of equal cost.
class WorkMeter
{
public:
    WorkMeter(SearchContext &ctx, std::string method, int steps)
        : m_ctx(ctx)
        , m_method(std::move(method))
        , m_steps(steps)
    {
        const Architecture &a = ctx.decoder.architecture();
        const double hd = a.headDim > 0 ? double(a.headDim)
            : a.heads > 0               ? double(a.hidden) / a.heads
                                        : double(a.hidden);
        const double q = a.heads > 0 ? a.heads * hd : double(a.hidden);
        const double kv = a.kvHeads > 0 ? a.kvHeads * hd : q;
        m_attn = double(a.hidden) * (q + 2 * kv) + q * double(a.hidden);
        m_mlp = 3.0 * double(a.hidden) * double(a.intermediate);
        m_head = double(a.vocab) * double(a.hidden);
    }

    // Opens step `step` with the configuration `base` and its candidates.
    void beginStep(int step, const UnitMask &base, const std::vector<UnitMask> &candidates)
    {
        m_step = step;
        m_costs.clear();
        for (const UnitMask &c : candidates)
            m_costs.push_back(cost(base, c));
        m_next = 0;
        m_stepDone = 0;
        m_stepTotal = 0;
        for (double c : m_costs)
            m_stepTotal += c;
        // Later steps: one candidate fewer each, each running one unit less of the model.
        int alive = 0;
        for (int l = 0; l < base.layers(); ++l)
            alive += !base.skipAttn[static_cast<std::size_t>(l)] + !base.skipMlp[static_cast<std::size_t>(l)];
        const double m = double(m_costs.size());
        const double body = m > 0 ? m_stepTotal / m - m_head : 0;
        m_future = 0;
        for (int k = 1; k < m_steps - step && k < m; ++k)
            m_future += (m - k) * (m_head + body * std::max(0.0, 1.0 - double(k) / std::max(alive, 1)));
    }

    // Candidate `m_next` is done; `scored` when it was run (rather than recalled from an
    // interrupted run, which costs nothing: it reports no progress, so the rate stays honest).
    void candidateDone(bool scored)
    {
        if (m_next < m_costs.size())
            m_stepDone += m_costs[m_next];
        ++m_next;
        const double total = m_done + m_stepTotal + m_future;
        m_fraction = std::max(m_fraction, total > 0 ? (m_done + m_stepDone) / total : 0.0);
        m_ctx.job.stage(m_method + ": step " + std::to_string(m_step + 1) + " of " + std::to_string(m_steps)
            + ", candidate " + std::to_string(std::min(m_next + 1, m_costs.size())) + " of "
            + std::to_string(m_costs.size()));
        if (scored)
            m_ctx.job.progress(m_fraction, 1.0);
    }

    void endStep() { m_done += m_stepTotal; }

private:
    double cost(const UnitMask &base, const UnitMask &c) const
    {
        const int L = c.layers();
        const int start = m_ctx.options.cached ? CalibrationScorer::firstDifference(base, c) : 0;
        double sum = m_head;
        for (int s = start; s < 2 * L; ++s) {
            const auto l = static_cast<std::size_t>(s / 2);
            if (s % 2 == 0 && !c.skipAttn[l])
                sum += m_attn;
            else if (s % 2 == 1 && !c.skipMlp[l])
                sum += m_mlp;
        }
        return sum;
    }

    SearchContext &m_ctx;
    std::string m_method;
    int m_steps;
    double m_attn = 0, m_mlp = 0, m_head = 0;
    int m_step = 0;
    std::vector<double> m_costs;
    std::size_t m_next = 0;
    double m_done = 0, m_stepDone = 0, m_stepTotal = 0, m_future = 0, m_fraction = 0;
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
    // Early stop can only stop between forward batches (--batch 1: after any window).
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
    WorkMeter meter(ctx, "SLEB", K);
    Counters others; // the other ranks' candidates, when ranks share the search
    for (int phase = static_cast<int>(ctx.resume.size()); phase < K; ++phase) {
        const int n = static_cast<int>(alive.size());
        TraceStep step;
        step.index = phase;
        step.kind = "phase";
        GreedyStep greedy{ctx, scorer, phase, others, o.earlyStop};
        const int lastPos = n - o.latterBarrier - 1;
        std::vector<int> positions;
        std::vector<UnitMask> masks;
        for (int j = o.earlyBarrier; j <= lastPos; ++j) {
            if (ctx.isProtected(alive[j]))
                continue;
            positions.push_back(j);
            masks.push_back(mask);
            masks.back().skipBlock(alive[j]);
        }
        // With early stop, the candidates go from the best of the previous step to the worst: the
        // first complete scores are then low and the hopeless candidates stop soon. The trace keeps
        // position order, and the choice is the same in any order (GreedyStep::score). Ranks take
        // every world-th candidate of this order, so each gets some of the promising ones.
        std::vector<std::size_t> order(positions.size());
        std::iota(order.begin(), order.end(), 0);
        if (o.earlyStop && !ctx.result.steps.empty()) {
            std::map<int, double> previous;
            for (const CandidateScore &c : ctx.result.steps.back().candidates)
                previous[c.unit.layer] = c.score;
            const auto previousScore = [&](std::size_t i) {
                const auto it = previous.find(alive[positions[i]]);
                return it == previous.end() ? std::numeric_limits<double>::infinity() : it->second;
            };
            std::stable_sort(order.begin(), order.end(),
                [&](std::size_t a, std::size_t b) { return previousScore(a) < previousScore(b); });
        }
        step.candidates.resize(positions.size());
        std::vector<UnitMask> ownMasks;
        for (std::size_t k = 0; k < order.size(); ++k) {
            const std::size_t i = order[k];
            step.candidates[i] = {Unit{UnitKind::Block, alive[positions[i]]}, std::numeric_limits<double>::quiet_NaN(),
                positions[i], false};
            if (ctx.mine(k))
                ownMasks.push_back(masks[i]);
        }
        meter.beginStep(phase, mask, ownMasks);
        for (std::size_t k = 0; k < order.size(); ++k) {
            if (!ctx.mine(k))
                continue;
            const std::size_t i = order[k];
            const int before = ctx.recalled();
            greedy.score(step, static_cast<int>(i), masks[i], step.candidates[i].unit, positions[i]);
            meter.candidateDone(ctx.recalled() == before);
        }
        meter.endStep();
        const int best = greedy.finish(step);
        if (best < 0)
            throw UsageError("SLEB has no block left to remove at phase " + std::to_string(phase)
                + ": every alive block is a barrier or protected");
        const int bestPos = positions[static_cast<std::size_t>(best)]; // the lowest alive position wins ties
        const auto bestCandidate = static_cast<std::size_t>(best);
        const Unit chosen{UnitKind::Block, alive[bestPos]};
        chosen.applyTo(mask);
        greedy.adopt(mask);
        removed.push_back(chosen);
        alive.erase(alive.begin() + bestPos);

        emitGreedyStep(ctx, std::move(step), chosen, bestCandidate, mask, removed, base, others, scorer, 2);
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
    WorkMeter meter(ctx, "FinerCut", S);
    Counters others; // the other ranks' candidates, when ranks share the search
    for (int step = static_cast<int>(ctx.resume.size()); step < S; ++step) {
        if (candidates.empty() && !readmitted)
            readmit();
        if (candidates.empty())
            break;
        TraceStep t;
        t.index = step;
        t.kind = "step";
        GreedyStep greedy{ctx, scorer, step, others};
        std::vector<UnitMask> masks, ownMasks;
        for (std::size_t i = 0; i < candidates.size(); ++i) {
            masks.push_back(mask);
            candidates[i].applyTo(masks.back());
            if (ctx.mine(i))
                ownMasks.push_back(masks.back());
        }
        meter.beginStep(step, mask, ownMasks);
        t.candidates.resize(candidates.size());
        for (std::size_t i = 0; i < candidates.size(); ++i) {
            t.candidates[i] = {candidates[i], std::numeric_limits<double>::quiet_NaN(), static_cast<int>(i), false};
            if (!ctx.mine(i))
                continue;
            const int before = ctx.recalled();
            greedy.score(t, static_cast<int>(i), masks[i], candidates[i], static_cast<int>(i));
            meter.candidateDone(ctx.recalled() == before);
        }
        meter.endStep();
        const auto k = static_cast<std::size_t>(greedy.finish(t)); // the first minimum in list order
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
        emitGreedyStep(ctx, std::move(t), chosen, k, mask, pruned, base, others, scorer, 1);
    }
}

} // namespace blockscope
