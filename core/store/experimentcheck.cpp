#include "experimentcheck.h"

#include "common/formaterror.h"
#include "experimentfile.h"
#include "log/logging.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace blockscope {

namespace fs = std::filesystem;

namespace {
// The checker's exit codes (app/h5check/main.cpp).
constexpr int ExitReadable = 0;
constexpr int ExitRefused = 1;
constexpr int ExitOutOfMemory = 3;

std::string signalName(int sig)
{
    const char *d = sigdescr_np(sig);
    const char *a = sigabbrev_np(sig);
    return std::string(a ? "SIG" + std::string(a) : "signal " + std::to_string(sig))
        + (d ? " (" + std::string(d) + ")" : "");
}
[[noreturn]] void throwCheckerError(const std::string &path, const std::string &output)
{
    nlohmann::json error;
    try {
        error = nlohmann::json::parse(
            output.substr(output.rfind('\n') == std::string::npos ? 0 : output.rfind('\n') + 1));
    } catch (const nlohmann::json::exception &) {
    }
    if (error.is_object() && error.value("error", "") == "format") {
        const auto &offset = error["offset"];
        throw FormatError(path, offset.is_number_unsigned() ? offset.get<std::uint64_t>() : FormatError::NoOffset,
            error.value("field", ""), error.value("message", ""));
    }
    if (error.is_object() && error.value("error", "") == "usage")
        throw UsageError(error.value("message", ""));
    throw FormatError(path, FormatError::NoOffset, "", "cannot be read: " + output);
}

} // namespace

std::string experimentCheckerPath()
{
    if (const char *env = std::getenv("BLOCKSCOPE_H5CHECK"); env && *env)
        return fs::exists(env) ? std::string(env) : std::string();
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (ec)
        return {};
    const fs::path beside = self.parent_path() / "blockscope-h5check";
    return fs::exists(beside, ec) ? beside.string() : std::string();
}

ExperimentCheck checkExperimentInChild(const std::string &path, std::chrono::milliseconds timeout)
{
    ExperimentCheck r;
    const std::string checker = experimentCheckerPath();
    if (checker.empty())
        return r;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        throw std::runtime_error("cannot check " + path + ": pipe failed: " + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    std::string arg0 = checker, arg1 = path;
    char *argv[] = {arg0.data(), arg1.data(), nullptr};
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, checker.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (spawned != 0) {
        close(fds[0]);
        throw std::runtime_error(
            "cannot check " + path + ": starting " + checker + " failed: " + std::strerror(spawned));
    }
    // Collect what it says until it closes its end or the time is up.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool timedOut = false;
    char buf[4096];
    for (;;) {
        const auto left
            = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timedOut = true;
            break;
        }
        pollfd p{fds[0], POLLIN, 0};
        const int ready = poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1000)));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            continue;
        const ssize_t n = read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (r.detail.size() < 16384)
            r.detail.append(buf, static_cast<std::size_t>(n));
    }
    close(fds[0]);
    if (timedOut)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) { }
    while (!r.detail.empty() && (r.detail.back() == '\n' || r.detail.back() == '\r'))
        r.detail.pop_back();
    if (timedOut) {
        r.outcome = ExperimentCheck::Outcome::TimedOut;
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU) {
        r.outcome = ExperimentCheck::Outcome::TimedOut; // the checker's CPU limit: libhdf5 spinning
    } else if (WIFSIGNALED(status)) {
        r.outcome = ExperimentCheck::Outcome::Crashed;
        r.detail = signalName(WTERMSIG(status));
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == ExitReadable) {
        r.outcome = ExperimentCheck::Outcome::Readable;
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == ExitRefused) {
        r.outcome = ExperimentCheck::Outcome::Refused;
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == ExitOutOfMemory) {
        r.outcome = ExperimentCheck::Outcome::OutOfMemory;
    } else {
        r.outcome = ExperimentCheck::Outcome::Crashed;
        r.detail = "exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1)
            + (r.detail.empty() ? "" : ": " + r.detail);
    }
    return r;
}

void checkExistingExperiment(const std::string &path)
{
    std::error_code ec;
    if (!fs::exists(path, ec))
        return;
    const ExperimentCheck c = checkExperimentInChild(path);
    switch (c.outcome) {
    case ExperimentCheck::Outcome::Readable: return;
    case ExperimentCheck::Outcome::Refused:
        // The checker's error, as it is. The file is not read here to get it again: under the
        // checker's memory limit libhdf5 may have failed cleanly where, without it, it would not.
        throwCheckerError(path, c.detail);
    case ExperimentCheck::Outcome::Unchecked: {
        static std::atomic<bool> warned{false};
        if (!warned.exchange(true))
            log::logger(log::Subsystem::Store)
                ->warn("blockscope-h5check not found: experiment files are read without a crash guard");
        return;
    }
    case ExperimentCheck::Outcome::Crashed:
        throw FormatError(path, FormatError::NoOffset, "",
            "the file is damaged: reading it crashed the HDF5 library (" + c.detail
                + ", in a separate process); it was not opened");
    case ExperimentCheck::Outcome::TimedOut:
        throw FormatError(path, FormatError::NoOffset, "",
            "the file is damaged: reading it did not finish (the HDF5 library kept going in a separate process, "
            "which was stopped); it was not opened");
    case ExperimentCheck::Outcome::OutOfMemory:
        throw FormatError(path, FormatError::NoOffset, "",
            "the file is damaged: reading it asked for more memory than any experiment file needs (in a separate "
            "process); it was not opened");
    }
}

Experiment readExperimentChecked(const std::string &path)
{
    checkExistingExperiment(path); // nothing to check for a missing file: read says so
    return ExperimentFile::read(path);
}

} // namespace blockscope
