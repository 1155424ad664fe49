#pragma once

#include "model/unitmask.h"
#include "pruneoptions.h"
#include "unit.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace blockscope {

// One candidate scored at a step. `position` is the candidate's place in the method's candidate
// list (SLEB: alive position; FinerCut: list index), -1 where it has none.
struct CandidateScore
{
    Unit unit;
    double score = 0;
    int position = -1;
    // The candidate was stopped early (PruneOptions::earlyStop) once its running score showed it
    // could not win: `score` is a lower bound of its score, not the score.
    bool lowerBound = false;
};

// One EvoPress offspring: its genome, the swaps that made it from its parent, its fitness.
struct EvoSwap
{
    UnitKind kind = UnitKind::Attention; // Attention or Mlp
    int removed = 0; // the position that became removed
    int restored = 0; // the position that became kept
};

struct EvoCandidate
{
    UnitMask genome; // skipAttn / skipMlp = removed
    std::vector<EvoSwap> swaps;
    double stage1Fitness = std::numeric_limits<double>::quiet_NaN();
    double finalFitness = std::numeric_limits<double>::quiet_NaN(); // last stage, survivors only
};

struct EvoGeneration
{
    UnitMask parent;
    double parentFitness = std::numeric_limits<double>::quiet_NaN(); // from the previous last stage
    double parentRescored = std::numeric_limits<double>::quiet_NaN(); // in this generation's last stage
    std::vector<EvoCandidate> offspring;
    std::vector<std::vector<std::int64_t>> stageSequences; // minibatch sequence ids per stage
    std::vector<std::int64_t> stageTokens;
    bool winnerIsParent = false;
    std::int64_t rejectedDraws = 0;
    bool rejectionCapHit = false; // stopped drawing after 1000 consecutive rejections
    std::vector<UnitMask> population; // the population after this generation (resume)
    std::vector<double> populationFitness;
};

// One immutable step of a search (pruning.md §9): what was chosen, every candidate's score, the
// configuration after the step, cumulative costs, and the configuration's quality.
struct TraceStep
{
    static constexpr double NaN = std::numeric_limits<double>::quiet_NaN();

    int index = 0;
    std::string kind; // "phase" (SLEB), "step" (FinerCut), "generation"/"initial" (EvoPress), "one-shot"
    std::vector<Unit> chosen; // removed at this step (one-shot: the whole removed set for this count)
    double chosenScore = NaN;
    bool nearTie = false; // another candidate scored within 1e-6 relative of the chosen one
    bool readmitted = false; // FinerCut: the excluded early units re-entered the list after this step
    std::vector<CandidateScore> candidates;
    UnitMask mask; // configuration after the step
    std::vector<Unit> removedSoFar; // cumulative removal order (greedy methods)

    std::int64_t evaluations = 0; // cumulative candidate evaluations
    std::int64_t unitForwards = 0; // cumulative, per calibration window (SLEB: blocks, others: sublayers)
    std::int64_t tokens = 0; // cumulative tokens pushed through the model by the search
    double seconds = 0; // wall time since the run started (resumed runs continue the count)

    double perplexity = NaN; // of `mask` on the evaluation windows (protocol of the run)
    double klToDense = NaN; // kl_evopress of `mask` against dense on the evaluation windows

    std::string rngState; // mt19937_64 state after the step, as its operator<< writes it (EvoPress)

    // One-shot methods: ShortGPT BI per block ([L]); angular D matrix row-major ([(L+1)^2]).
    std::vector<double> blockScores;
    std::vector<double> distanceMatrix;

    bool hasEvo = false;
    EvoGeneration evo;
};

// One candidate scored inside a step that is not finished yet, persisted as it is scored so that
// an interrupted run continues inside the step (pruning.md §9): SLEB and FinerCut number the
// step's candidates in list order; EvoPress numbers each selection stage's pool (offspring, then
// the population in the last stage) and its initial population as stage 0 of step 0.
struct CandidateRecord
{
    int step = 0; // TraceStep::index of the step it belongs to
    int stage = 0; // EvoPress selection stage; 0 for the greedy methods
    int index = 0; // place in the step's (stage's) candidate list
    std::string what; // the unit's label or the genome, checked when the record is used again
    double score = std::numeric_limits<double>::quiet_NaN();
    bool lowerBound = false; // stopped early: `score` is a lower bound
    std::int64_t tokens = 0; // tokens it ran before it stopped (lower bounds only)
};

// What a search produced: the steps, and the removal order they add up to.
struct PruneResult
{
    PruneOptions options;
    int layers = 0;
    std::vector<TraceStep> steps;
    UnitMask finalMask;
    std::vector<Unit> removalOrder;
    double densePerplexity = TraceStep::NaN;
    bool complete = false; // false when cancelled
    int recalledCandidates = 0; // candidates of an interrupted step taken from it, not scored again
};

// Near tie (pruning.md §1): two scores within 1e-6 relative of each other.
inline bool nearTie(double a, double b)
{
    const double scale = std::max(std::abs(a), std::abs(b));
    return std::abs(a - b) <= 1e-6 * scale;
}

} // namespace blockscope
