#pragma once

// One rank's part of a job shared by a process group (issue 16), the way every shared job runs:
// the prune job, gate training and PPA measurement. No LibTorch in this header.

#include "dist/processgroup.h"
#include "jobs/jobcontext.h"

#include <functional>
#include <optional>
#include <stop_token>
#include <string>

namespace blockscope::dist {

// Runs `body` with a JobContext that stops when `job` is asked to and also when the group's
// watch finds a rank lost between two exchanges (a collective notices a dead rank by itself).
// A stop caused by a lost rank comes out as a GroupError naming it, not as a cancel; any other
// error of this rank is told to the other ranks (Group::reportFailure) before it propagates, so
// they stop at once with its reason. Without a group (or with one rank) `body` gets `job` itself.
template<class Body>
auto runAsRank(Group *group, JobContext &job, Body &&body) -> decltype(body(job))
{
    if (group == nullptr || group->world() < 2)
        return body(job);
    std::stop_source stop;
    std::stop_callback<std::function<void()>> forward(job.stopToken(), [&stop] { stop.request_stop(); });
    JobContext work(
        stop.get_token(), [&job](std::string_view s) { job.stage(s); }, [&job](double f) { job.progress(f, 1.0); });
    group->watch([&stop](const std::string &) { stop.request_stop(); });
    try {
        auto result = body(work);
        group->stopWatching(); // finished on purpose: none of the others is lost from here on
        group->barrier();
        return result;
    } catch (const GroupError &) {
        throw; // the group's own trouble: the other ranks see it for themselves
    } catch (const JobCancelled &) {
        if (const std::optional<std::string> lost = group->lost())
            throw GroupError(*lost + " (" + group->describe() + " stops here)");
        throw;
    } catch (const std::exception &e) {
        group->reportFailure(e.what());
        throw;
    }
}

} // namespace blockscope::dist
