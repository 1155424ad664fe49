// EvoPress depth / sublayer dropping (pruning.md §5): a (1+λ) evolutionary search with
// level-switch mutation and multi-stage selection on growing token budgets.

#include "common/formaterror.h"
#include "jobs/jobcontext.h"
#include "searchcommon.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

namespace blockscope {

namespace {

constexpr int RejectionCap = 1000;

// Uniform integer in [0, n) by rejection, so draws do not depend on a library's distribution.
std::uint64_t randBelow(std::mt19937_64 &rng, std::uint64_t n)
{
    const std::uint64_t limit
        = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
    std::uint64_t x;
    do
        x = rng();
    while (x >= limit);
    return x % n;
}

double binomial(int n, int k)
{
    if (k < 0 || k > n)
        return 0;
    double r = 1;
    for (int i = 1; i <= k; ++i)
        r = r * (n - k + i) / i;
    return r;
}

using Key = std::pair<std::vector<bool>, std::vector<bool>>;
Key keyOf(const UnitMask &m)
{
    return {m.skipAttn, m.skipMlp};
}

std::vector<Unit> unitsOf(const UnitMask &m)
{
    std::vector<Unit> out;
    for (int l = 0; l < m.layers(); ++l) {
        if (m.skipAttn[l])
            out.push_back({UnitKind::Attention, l});
        if (m.skipMlp[l])
            out.push_back({UnitKind::Mlp, l});
    }
    return out;
}

// "a:0101 m:0011": a genome as the journal records it, to check a recalled fitness against.
std::string genomeText(const UnitMask &m)
{
    std::string t = "a:";
    for (bool b : m.skipAttn)
        t += b ? '1' : '0';
    t += " m:";
    for (bool b : m.skipMlp)
        t += b ? '1' : '0';
    return t;
}

class EvoSearch
{
public:
    explicit EvoSearch(SearchContext &ctx)
        : m_ctx(ctx)
        , m_o(ctx.options)
        , m_L(ctx.layers)
        , m_k(ctx.options.targetCount(ctx.layers))
        , m_rng(ctx.options.seed)
    {
        for (int l = 0; l < m_L; ++l)
            if (!ctx.isProtected(l))
                m_legal.push_back(l);
        if (m_k >= static_cast<int>(m_legal.size()))
            throw UsageError("EvoPress cannot remove " + std::to_string(m_k) + " of each sublayer kind: only "
                + std::to_string(m_legal.size()) + " blocks may change and one must stay");
        const double perKind = binomial(static_cast<int>(m_legal.size()), m_k);
        m_validGenomes = m_o.dropEntireBlock ? perKind : perKind * perKind;
        m_kind = m_o.evoFitness == "ppl" ? ScoreKind::MeanNll : ScoreKind::KlEvopress;
        m_ctx.job.stage("EvoPress: dense reference");
        m_sequences = ctx.sequences(m_kind);
        m_generations = m_o.generations > 0
            ? m_o.generations
            : static_cast<int>(std::floor(static_cast<double>(m_k) * (m_L - m_k) / 1.5));
    }

    void run()
    {
        int nextGeneration = 0;
        if (m_ctx.resume.empty()) {
            initial();
        } else {
            const TraceStep &last = m_ctx.resume.back();
            if (!last.hasEvo || last.rngState.empty() || last.evo.population.empty())
                throw UsageError("cannot resume EvoPress: the last recorded step has no population or RNG state");
            std::istringstream in(last.rngState);
            in >> m_rng;
            if (!in)
                throw UsageError("cannot resume EvoPress: the recorded RNG state is not an mt19937_64 state");
            m_population = last.evo.population;
            m_fitness = last.evo.populationFitness;
            m_evaluations = last.evaluations;
            m_forwards = last.unitForwards;
            m_tokens = last.tokens;
            nextGeneration = last.index; // step 0 is the initial population, step g+1 generation g
        }
        m_ctx.job.stage("EvoPress: generations");
        for (int g = nextGeneration; g < m_generations; ++g) {
            m_ctx.job.stage("EvoPress: generation " + std::to_string(g + 1) + " of " + std::to_string(m_generations));
            generation(g);
            m_ctx.job.progress(g + 1, m_generations);
        }
    }

private:
    struct Selected
    {
        std::vector<std::size_t> order; // indices into the candidates, best first
        std::vector<double> fitness; // per candidate
        std::vector<std::int64_t> sequenceIds;
    };

    bool valid(const UnitMask &g) const
    {
        int a = 0, m = 0;
        for (int l = 0; l < m_L; ++l) {
            const bool legal = std::find(m_legal.begin(), m_legal.end(), l) != m_legal.end();
            if ((g.skipAttn[l] || g.skipMlp[l]) && !legal)
                return false;
            a += g.skipAttn[l];
            m += g.skipMlp[l];
        }
        if (m_o.dropEntireBlock && g.skipAttn != g.skipMlp)
            return false;
        return a == m_k && m == m_k;
    }

    std::vector<bool> randomKind()
    {
        std::vector<int> pos = m_legal;
        std::vector<bool> bits(m_L, false);
        for (int i = 0; i < m_k; ++i) { // partial Fisher-Yates
            const auto j = i + static_cast<int>(randBelow(m_rng, pos.size() - i));
            std::swap(pos[i], pos[j]);
            bits[pos[i]] = true;
        }
        return bits;
    }

    // Draws distinct random sequences until n tokens; the last one is cut to fit.
    std::vector<ScoredSequence> minibatch(std::int64_t n, std::vector<std::int64_t> &ids)
    {
        std::vector<bool> used(m_sequences.size(), false);
        std::vector<std::pair<std::int64_t, std::int64_t>> picks; // id, length
        std::int64_t total = 0;
        std::size_t drawn = 0;
        while (total < n && drawn < m_sequences.size()) {
            const auto i = static_cast<std::int64_t>(randBelow(m_rng, m_sequences.size()));
            if (used[i])
                continue;
            used[i] = true;
            ++drawn;
            const auto len = std::min<std::int64_t>(static_cast<std::int64_t>(m_sequences[i].ids.size()), n - total);
            picks.emplace_back(i, len);
            ids.push_back(i);
            total += len;
        }
        // A set of sequences: built in id order so that equal minibatches sum in the same order.
        std::sort(picks.begin(), picks.end());
        std::vector<ScoredSequence> out;
        for (const auto &[i, len] : picks) {
            if (len < 2)
                continue; // nothing to predict
            const ScoredSequence &s = m_sequences[i];
            ScoredSequence c;
            c.ids.assign(s.ids.begin(), s.ids.begin() + len);
            c.firstTarget = std::min(s.firstTarget, len - 1);
            if (s.teacher.defined())
                c.teacher = s.teacher.head(len);
            out.push_back(std::move(c));
        }
        return out;
    }

    // Scores the candidates on a fresh minibatch of `tokens` tokens; fitness values an interrupted
    // run recorded for this step and stage are taken from it instead.
    Selected select(
        const std::vector<UnitMask> &candidates, std::int64_t tokens, const UnitMask &base, int step, int stage)
    {
        Selected s;
        CalibrationScorer scorer(
            m_ctx.decoder, minibatch(tokens, s.sequenceIds), m_kind, m_o.batch, m_o.cached, m_ctx.job);
        scorer.setBase(base);
        // With ranks each scores every world-th candidate; the others' fitness arrives in share().
        const SearchContext::Work setUp = SearchContext::Work::of(scorer);
        std::vector<SearchContext::Shared> outcome(candidates.size());
        std::vector<bool> own(candidates.size(), false);
        for (std::size_t i = 0; i < candidates.size(); ++i) {
            if (!m_ctx.mine(i))
                continue;
            own[i] = true;
            const UnitMask &c = candidates[i];
            const std::string what = genomeText(c);
            if (const auto known = m_ctx.recall(step, stage, static_cast<int>(i), what)) {
                scorer.credit(c);
                outcome[i] = {*known};
                continue;
            }
            outcome[i] = {scorer.score(c), false, 0, true};
            m_ctx.scored(step, stage, static_cast<int>(i), what, outcome[i].score);
        }
        const SearchContext::Work ownWork = SearchContext::Work::of(scorer) - setUp;
        const SearchContext::Work all = m_ctx.share(outcome, own, ownWork);
        for (std::size_t i = 0; i < candidates.size(); ++i) {
            s.fitness.push_back(outcome[i].score);
            if (!own[i] && outcome[i].fresh)
                m_ctx.scored(step, stage, static_cast<int>(i), genomeText(candidates[i]), outcome[i].score);
        }
        s.order.resize(candidates.size());
        std::iota(s.order.begin(), s.order.end(), 0);
        std::stable_sort(
            s.order.begin(), s.order.end(), [&](std::size_t a, std::size_t b) { return s.fitness[a] < s.fitness[b]; });
        // The base's forward once (as one process counts it), and every rank's candidates.
        m_evaluations += setUp.evaluations + all.evaluations;
        m_forwards += setUp.forwards + all.forwards;
        m_tokens += setUp.tokens + all.tokens;
        return s;
    }

    // Counts a rejected draw; true once RejectionCap draws in a row were rejected (the search space
    // has fewer distinct genomes than asked for).
    static bool rejected(EvoGeneration &evo, int &consecutive)
    {
        ++evo.rejectedDraws;
        if (++consecutive < RejectionCap)
            return false;
        evo.rejectionCapHit = true;
        return true;
    }

    std::string rngState() const
    {
        std::ostringstream out;
        out << m_rng;
        return out.str();
    }

    void finishStep(TraceStep &t, const std::vector<double> &lastStageFitness)
    {
        t.mask = m_population.front();
        t.chosen = unitsOf(t.mask);
        t.removedSoFar = t.chosen;
        t.chosenScore = m_fitness.front();
        int near = 0;
        for (double f : lastStageFitness)
            near += nearTie(f, t.chosenScore);
        t.nearTie = near > 1;
        t.evaluations = m_evaluations;
        t.unitForwards = m_forwards;
        t.tokens = m_tokens;
        t.rngState = rngState();
        t.hasEvo = true;
        t.evo.population = m_population;
        t.evo.populationFitness = m_fitness;
        m_ctx.emit(std::move(t));
    }

    void initial()
    {
        std::vector<UnitMask> init;
        std::set<Key> seen;
        TraceStep t;
        t.index = 0;
        t.kind = "initial";
        const auto want = static_cast<std::size_t>(std::min<double>(m_o.initialGenomes, m_validGenomes));
        int consecutive = 0;
        while (init.size() < want) {
            m_ctx.job.checkpoint();
            UnitMask g{randomKind(), {}};
            g.skipMlp = m_o.dropEntireBlock ? g.skipAttn : randomKind();
            if (seen.insert(keyOf(g)).second) {
                init.push_back(g);
                consecutive = 0;
            } else if (rejected(t.evo, consecutive)) {
                break;
            }
        }
        const Selected sel = select(init, m_o.initialTokens, UnitMask::dense(m_L), 0, 0);
        for (std::size_t i = 0; i < init.size(); ++i) {
            EvoCandidate c;
            c.genome = init[i];
            c.stage1Fitness = c.finalFitness = sel.fitness[i];
            t.evo.offspring.push_back(std::move(c));
        }
        t.evo.stageSequences = {sel.sequenceIds};
        t.evo.stageTokens = {m_o.initialTokens};
        m_population = {init[sel.order.front()]};
        m_fitness = {sel.fitness[sel.order.front()]};
        t.evo.parent = m_population.front();
        t.evo.parentFitness = m_fitness.front();
        finishStep(t, sel.fitness);
    }

    void generation(int g)
    {
        TraceStep t;
        t.index = g + 1;
        t.kind = "generation";
        t.evo.parent = m_population.front();
        t.evo.parentFitness = m_fitness.front();

        std::set<Key> seen;
        for (const UnitMask &p : m_population)
            seen.insert(keyOf(p));
        const auto cap = static_cast<std::size_t>(
            std::min<double>(m_o.offspring, m_validGenomes - static_cast<double>(m_population.size())));
        std::vector<UnitMask> off;
        int consecutive = 0;
        while (off.size() < cap) {
            m_ctx.job.checkpoint();
            UnitMask c = m_population[randBelow(m_rng, m_population.size())];
            const auto draws
                = static_cast<int>(std::min(1 + randBelow(m_rng, static_cast<std::uint64_t>(m_o.maxMutations)),
                    1 + randBelow(m_rng, static_cast<std::uint64_t>(m_o.maxMutations))));
            std::vector<EvoSwap> swaps;
            for (int i = 0; i < draws; ++i) {
                const UnitKind kind = randBelow(m_rng, 2) == 0 ? UnitKind::Attention : UnitKind::Mlp;
                std::vector<bool> &bits = kind == UnitKind::Attention ? c.skipAttn : c.skipMlp;
                std::vector<int> kept, removed;
                for (int l : m_legal)
                    (bits[l] ? removed : kept).push_back(l);
                const int r = kept[randBelow(m_rng, kept.size())];
                const int a = removed[randBelow(m_rng, removed.size())];
                bits[r] = true;
                bits[a] = false;
                swaps.push_back({kind, r, a});
            }
            if (m_o.dropEntireBlock)
                c.skipMlp = c.skipAttn; // mutations drawn on the MLP vector are lost, as in the official code
            if (valid(c) && seen.insert(keyOf(c)).second) {
                off.push_back(c);
                EvoCandidate e;
                e.genome = c;
                e.swaps = std::move(swaps);
                t.evo.offspring.push_back(std::move(e));
                consecutive = 0;
            } else if (rejected(t.evo, consecutive)) {
                break;
            }
        }
        if (off.empty()) { // nothing new is reachable: the parent stays
            t.evo.winnerIsParent = true;
            finishStep(t, m_fitness);
            return;
        }

        // Stages: the first ones select among offspring, the last one among survivors and parents.
        std::vector<std::size_t> current(off.size()); // indices into `off`
        std::iota(current.begin(), current.end(), 0);
        const std::size_t stages = m_o.stageTokens.size();
        std::vector<double> lastFitness;
        const UnitMask parent = m_population.front();
        for (std::size_t s = 0; s < stages; ++s) {
            const bool last = s + 1 == stages;
            std::vector<UnitMask> pool;
            for (std::size_t i : current)
                pool.push_back(off[i]);
            if (last)
                pool.insert(pool.end(), m_population.begin(), m_population.end());
            const Selected sel = select(pool, m_o.stageTokens[s], parent, t.index, static_cast<int>(s));
            t.evo.stageSequences.push_back(sel.sequenceIds);
            t.evo.stageTokens.push_back(m_o.stageTokens[s]);
            for (std::size_t i = 0; i < current.size(); ++i) {
                if (s == 0)
                    t.evo.offspring[current[i]].stage1Fitness = sel.fitness[i];
                if (last)
                    t.evo.offspring[current[i]].finalFitness = sel.fitness[i];
            }
            const auto keep = std::min<std::size_t>(static_cast<std::size_t>(m_o.stageSurvivors[s]), pool.size());
            if (!last) {
                std::vector<std::size_t> next;
                for (std::size_t r = 0; r < keep; ++r)
                    next.push_back(current[sel.order[r]]);
                current = std::move(next);
                continue;
            }
            t.evo.parentRescored = sel.fitness[current.size()];
            lastFitness = sel.fitness;
            std::vector<UnitMask> population;
            std::vector<double> fitness;
            for (std::size_t r = 0; r < keep; ++r) {
                population.push_back(pool[sel.order[r]]);
                fitness.push_back(sel.fitness[sel.order[r]]);
            }
            t.evo.winnerIsParent = sel.order.front() >= current.size();
            m_population = std::move(population);
            m_fitness = std::move(fitness);
        }
        finishStep(t, lastFitness);
    }

    SearchContext &m_ctx;
    const PruneOptions &m_o;
    const int m_L;
    const int m_k;
    std::mt19937_64 m_rng;
    std::vector<int> m_legal;
    double m_validGenomes = 0;
    ScoreKind m_kind = ScoreKind::KlEvopress;
    std::vector<ScoredSequence> m_sequences;
    int m_generations = 0;
    std::vector<UnitMask> m_population;
    std::vector<double> m_fitness;
    std::int64_t m_evaluations = 0, m_forwards = 0, m_tokens = 0;
};

} // namespace

void runEvoPress(SearchContext &ctx)
{
    EvoSearch(ctx).run();
}

} // namespace blockscope
