#pragma once

#include "trace.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace blockscope {

namespace dist {
class Group;
}

class Decoder;
class JobContext;
struct WindowSet;

using StepCallback = std::function<void(const TraceStep &)>;
// Called once the dense model's perplexity on the evaluation windows is known (before step 0).
using DenseCallback = std::function<void(double perplexity)>;
// Called for every candidate as soon as it is scored, before the step it belongs to is complete.
using CandidateCallback = std::function<void(const CandidateRecord &)>;

// Runs one search (pruning.md §3–§7) on the calibration windows. Every step is handed to
// `onStep` as soon as it is complete (the caller persists it), and collected in the result.
// `evaluation` (may be null or empty) gives each step's perplexity and KL to dense.
// `resume` holds the steps of an earlier, interrupted run with the same options and data: the
// search rebuilds its state from them (for EvoPress the population and RNG state) and continues
// with the next step, so the trace equals an uninterrupted run's. `pending` holds the candidates
// that run had already scored inside that next step (records of other steps are ignored): they are
// not scored again, and a record that does not match the candidate the search now draws is refused.
// Every candidate scored here goes to `onCandidate`. With a `group`, every rank calls this with the
// same arguments and the candidates and evaluation batches are dealt over the ranks (SearchContext);
// each rank's result is the whole search's, and `onStep`/`onCandidate` see every candidate on every
// rank (the caller lets rank 0 alone persist them). Throws UsageError for invalid options,
// JobCancelled when stopped (the steps and candidates already handed out stay valid).
PruneResult runPruneSearch(const Decoder &decoder, const WindowSet &calibration, const WindowSet *evaluation,
    const PruneOptions &options, JobContext &job, const StepCallback &onStep = {},
    const std::vector<TraceStep> &resume = {}, const DenseCallback &onDense = {},
    const std::vector<CandidateRecord> &pending = {}, const CandidateCallback &onCandidate = {},
    dist::Group *group = nullptr);

// Checks the options against a model of `layers` blocks and `vocab` tokens and the calibration
// windows the search would use, the teacher's memory budget included; throws UsageError naming
// the option at fault (runPruneSearch makes the same check first).
void checkSearchOptions(const PruneOptions &options, int layers, std::int64_t vocab, const WindowSet &calibration);
// Tokens in the calibration windows the search uses (the first calibrationWindows of them).
std::int64_t searchCalibrationTokens(const PruneOptions &options, const WindowSet &calibration);

} // namespace blockscope
