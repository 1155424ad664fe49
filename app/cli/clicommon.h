#pragma once

#include <functional>
#include <string>

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

} // namespace blockscope::cli
