#pragma once

#include "jobs/jobcontext.h"
#include "progressbar.h"

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <thread>

namespace CLI {
class App;
class Option;
} // namespace CLI

namespace blockscope::cli {

// The options several commands take, worded once: the model path (positional, required), and
// --device (cpu or cuda).
CLI::Option *addModelArgument(CLI::App *cmd, std::string &path);
CLI::Option *addDeviceOption(CLI::App *cmd, std::string &device);

// Exit codes of blockscope-cli: scripts tell a bad command line from a bad file from a bug.
enum ExitCode : int {
    ExitOk = 0,
    ExitInternalError = 1,
    ExitUsage = 2,
    ExitBadInput = 3,
    ExitCannotWrite = 4,
    ExitRanks = 5, // the ranks of a multi-process run disagreed, or one of them stopped answering
    ExitCancelled = 130,
};

// Runs `body` and maps exceptions to exit codes with one readable line on stderr.
int guarded(const std::string &command, const std::function<int()> &body);

// While alive, Ctrl-C (SIGINT) and SIGTERM ask `stop` to stop instead of killing the process, so a
// long job ends at its next checkpoint and keeps what it has written. Restores the handlers after.
class InterruptWatcher
{
public:
    explicit InterruptWatcher(std::stop_source stop);
    ~InterruptWatcher();
    InterruptWatcher(const InterruptWatcher &) = delete;
    InterruptWatcher &operator=(const InterruptWatcher &) = delete;

private:
    void (*m_previousInt)(int) = nullptr;
    void (*m_previousTerm)(int) = nullptr;
    std::jthread m_watcher;
};

// What every long command runs its job with: a progress bar on stderr fed by the job's stages and
// progress, and Ctrl-C / SIGTERM asking the job to stop.
class CommandJob
{
public:
    CommandJob();
    JobContext &context() { return m_job; }
    ProgressBar &bar() { return m_bar; }

private:
    ProgressBar m_bar;
    std::stop_source m_stop;
    JobContext m_job;
    InterruptWatcher m_interrupts;
};

} // namespace blockscope::cli
