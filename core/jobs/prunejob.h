#pragma once

#include "eval/protocol.h"
#include "prune/prunesearch.h"
#include "prune/trace.h"
#include "store/experimentfile.h"

#include <functional>
#include <string>

namespace blockscope {

namespace dist {
class Group;
}

class JobContext;

// A whole pruning job as the CLI and the app ask for it: model, calibration text and protocol,
// options, and the experiment file every step is written to as it is produced.
struct PruneRequest
{
    std::string modelPath;
    std::string calibrationPath;
    std::string evaluationPath; // empty: the evaluation pool of the calibration text
    std::string tokenizerPath; // empty: found beside the model
    std::string protocol = "tiny-ts";
    std::int64_t context = 0; // 0: the preset's, capped by the model
    std::int64_t evaluationWindows = 0; // 0: all evaluation windows
    std::string device = "cpu";
    std::string dtype = "float32";
    int threads = 0; // CPU threads of this process; 0: LibTorch's default
    PruneOptions options; // calibrationWindows 0 takes the tiny-ts budget of the method
    std::string experimentPath; // empty: nothing is written
    bool resume = false; // continue the last unfinished run of this method in experimentPath
    std::string label;
    // Called on the worker thread once the run exists (in the file when there is one) and the
    // dense perplexity is known: its id, protocols, model and calibration references.
    std::function<void(const RunInfo &)> onRunStarted;
    // Called on the worker thread for every candidate as soon as it is scored (after it is in the
    // file): the live view of a step.
    CandidateCallback onCandidate;
    // Processes sharing the search (issue 16), joined by the caller; null or one rank: this
    // process alone. Every rank runs runPruneJob with the same request; rank 0 alone checks, locks
    // and writes the experiment file and reads what a resume continues from, and sends it to the
    // others. Every rank checks that the ranks agree on the model, the texts and the options.
    dist::Group *group = nullptr;
};

struct PruneJobReport
{
    std::string runId;
    PruneResult result;
    Protocol calibration;
    Protocol evaluation;
    double seconds = 0;
    int resumedSteps = 0;
    int resumedCandidates = 0; // scored inside the interrupted step before the run stopped, not scored again
};

// Opens the model, cuts the windows, runs the search, writes the experiment file step by step and
// candidate by candidate (a resumed run continues inside the step it was stopped in).
// On cancel the run is marked "cancelled" in the file and JobCancelled propagates. With ranks, a
// rank that dies or stops answering makes the others stop within seconds with a dist::GroupError
// naming it (the run is marked "failed", its steps and candidates kept for --resume).
PruneJobReport runPruneJob(const PruneRequest &request, JobContext &job, const StepCallback &onStep = {});

// The request's settings (paths, protocol, device, options; not the callbacks or the group) as
// JSON and back, for a job other processes run (blockscope-cli prune-json). A missing or mistyped
// field is a UsageError naming it.
nlohmann::json pruneRequestJson(const PruneRequest &request);
PruneRequest pruneRequestFrom(const nlohmann::json &j);

} // namespace blockscope
