#pragma once

#include <functional>
#include <stop_token>
#include <string>
#include <thread>

namespace blockscope::cli {

// Exit codes of blockscope-cli: scripts tell a bad command line from a bad file from a bug.
enum ExitCode : int {
    ExitOk = 0,
    ExitInternalError = 1,
    ExitUsage = 2,
    ExitBadInput = 3,
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

} // namespace blockscope::cli
