#pragma once

// A search run as several local processes for the app (issue 16): the app writes the request,
// starts `blockscope-cli prune-json FILE --nproc N` beside it and follows what rank 0 prints.

#include "jobs/prunejob.h"

#include <QString>

namespace blockscope::views {

// blockscope-cli beside the running program (the app and the CLI install and build side by side).
QString cliBesideApp();

// Runs `request` as `processes` ranks through `cli`. The run's start, every candidate and every
// step reach the request's callbacks and `onStep` as runPruneJob's would; each rank's stage and
// progress go into the job's stage text, one line a rank ("rank 1 · SLEB: step 2 of 4 … 45%"),
// and their mean into its progress. A cancel asks every rank to stop (the file keeps what they
// did); a failure is an error with the ranks' own messages.
PruneJobReport runPruneInProcesses(
    const PruneRequest &request, int processes, JobContext &job, const StepCallback &onStep, const QString &cli);

} // namespace blockscope::views
