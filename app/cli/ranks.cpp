#include "ranks.h"

#include "common/formaterror.h"
#include "dist/processgroup.h"

#include <CLI/CLI.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <thread>

extern char **environ;

namespace blockscope::cli {

namespace {

std::vector<std::string> g_commandLine;
std::atomic<int> g_signal{0};

extern "C" void onLauncherSignal(int s)
{
    g_signal.store(s);
}

// A port nobody listens on now; rank 0 binds it a moment later.
int freePort()
{
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        throw dist::GroupError("cannot open a socket to find a free port: " + std::string(std::strerror(errno)));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    const bool ok = ::bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0
        && ::getsockname(s, reinterpret_cast<sockaddr *>(&a), &len) == 0;
    ::close(s);
    if (!ok)
        throw dist::GroupError("cannot find a free port on 127.0.0.1: " + std::string(std::strerror(errno)));
    return ntohs(a.sin_port);
}

struct Rank
{
    pid_t pid = -1;
    int err = -1; // read end of its stderr
    std::string pending; // a partial line
    bool running = true;
    int code = 0;
    double fraction = 0;
    std::string stage;
};

int exitCodeOf(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}

} // namespace

void setCommandLine(int argc, char **argv)
{
    g_commandLine.assign(argv, argv + argc);
}

std::unique_ptr<dist::Group> joinGroupFromEnvironment()
{
    const auto where = dist::Rendezvous::fromEnvironment();
    if (!where || where->world == 1)
        return nullptr;
    return dist::Group::join(*where);
}

std::optional<int> launchOrJoin(int nproc, std::unique_ptr<dist::Group> &group)
{
    if (nproc > 1) {
        if (std::getenv("WORLD_SIZE") != nullptr)
            throw UsageError("--nproc starts its own processes; under torchrun (WORLD_SIZE is set) leave it out");
        const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
        return launchRanks(nproc, static_cast<int>(cores) / nproc);
    }
    group = joinGroupFromEnvironment();
    return std::nullopt;
}

void addNprocOption(CLI::App *cmd, int &nproc)
{
    cmd->add_option("--nproc", nproc,
           "Run as N processes on this machine sharing the work (each gets its share of the cores unless "
           "--threads is given). Under torchrun (WORLD_SIZE, RANK, MASTER_ADDR, MASTER_PORT set) leave it out: "
           "each process is one rank")
        ->capture_default_str()
        ->check(CLI::Range(1, 1024));
}

bool reportsProgressAsLines()
{
    const char *v = std::getenv("BLOCKSCOPE_PROGRESS_LINES");
    return v != nullptr && std::strcmp(v, "1") == 0;
}

int launchRanks(int nproc, int threadsPerRank, int graceSeconds)
{
    if (g_commandLine.empty())
        throw std::logic_error("launchRanks: the command line was not recorded");
    // The command line without --nproc, with a thread count per rank unless it has one.
    std::vector<std::string> args{"/proc/self/exe"};
    bool threads = false;
    for (std::size_t i = 1; i < g_commandLine.size(); ++i) {
        const std::string &a = g_commandLine[i];
        if (a == "--nproc") {
            ++i;
            continue;
        }
        if (a.rfind("--nproc=", 0) == 0)
            continue;
        threads = threads || a == "--threads" || a.rfind("--threads=", 0) == 0;
        args.push_back(a);
    }
    if (!threads) {
        args.emplace_back("--threads");
        args.push_back(std::to_string(std::max(1, threadsPerRank)));
    }
    const char *port = std::getenv("MASTER_PORT");
    const std::string masterPort = port != nullptr && *port != '\0' ? port : std::to_string(freePort());
    const bool forwardLines = reportsProgressAsLines();
    const bool draw = ::isatty(STDERR_FILENO) && !forwardLines;

    // Everything exec needs is built before fork: only async-signal-safe calls after it.
    std::vector<char *> argv;
    for (std::string &a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<Rank> ranks(static_cast<std::size_t>(nproc));
    const auto previousInt = std::signal(SIGINT, onLauncherSignal);
    const auto previousTerm = std::signal(SIGTERM, onLauncherSignal);
    g_signal = 0;
    for (int r = 0; r < nproc; ++r) {
        std::vector<std::string> env;
        for (char **e = environ; *e != nullptr; ++e) {
            const std::string v = *e;
            static const char *const ours[] = {"WORLD_SIZE=", "RANK=", "LOCAL_RANK=", "MASTER_ADDR=", "MASTER_PORT=",
                "BLOCKSCOPE_PROGRESS_LINES=", "LOCAL_WORLD_SIZE="};
            bool replaced = false;
            for (const char *o : ours)
                replaced = replaced || v.rfind(o, 0) == 0;
            if (!replaced)
                env.push_back(v);
        }
        env.push_back("WORLD_SIZE=" + std::to_string(nproc));
        env.push_back("LOCAL_WORLD_SIZE=" + std::to_string(nproc));
        env.push_back("RANK=" + std::to_string(r));
        env.push_back("LOCAL_RANK=" + std::to_string(r));
        env.push_back("MASTER_ADDR=127.0.0.1");
        env.push_back("MASTER_PORT=" + masterPort);
        env.emplace_back("BLOCKSCOPE_PROGRESS_LINES=1");
        if (std::getenv("TORCH_CPP_LOG_LEVEL") == nullptr) // c10d's warnings repeat the errors the ranks report
            env.emplace_back("TORCH_CPP_LOG_LEVEL=ERROR");
        std::vector<char *> envp;
        for (std::string &e : env)
            envp.push_back(e.data());
        envp.push_back(nullptr);
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0)
            throw dist::GroupError("cannot start rank " + std::to_string(r) + ": " + std::strerror(errno));
        const pid_t pid = ::fork();
        if (pid < 0)
            throw dist::GroupError("cannot start rank " + std::to_string(r) + ": " + std::strerror(errno));
        if (pid == 0) {
            ::dup2(fds[1], STDERR_FILENO);
            ::execve(argv[0], argv.data(), envp.data());
            ::_exit(127);
        }
        ::close(fds[1]);
        ranks[static_cast<std::size_t>(r)].pid = pid;
        ranks[static_cast<std::size_t>(r)].err = fds[0];
    }

    auto lastDraw = std::chrono::steady_clock::time_point{};
    auto redraw = [&](bool force) {
        if (!draw)
            return;
        const auto now = std::chrono::steady_clock::now();
        if (!force && now - lastDraw < std::chrono::milliseconds(100))
            return;
        lastDraw = now;
        std::string line = ranks.front().stage.substr(0, 40);
        for (std::size_t r = 0; r < ranks.size(); ++r) {
            char part[32];
            std::snprintf(part, sizeof part, " | r%zu %3.0f%%", r, 100 * ranks[r].fraction);
            line += part;
        }
        std::fprintf(stderr, "\r%-100.100s", line.c_str());
        std::fflush(stderr);
    };
    auto clearBar = [&] {
        if (draw && lastDraw != std::chrono::steady_clock::time_point{})
            std::fprintf(stderr, "\r%100s\r", "");
    };
    // One line of a rank's stderr: its progress, or text passed on with its rank.
    auto line = [&](std::size_t r, const std::string &text) {
        if (text.rfind("@progress ", 0) == 0) {
            char *end = nullptr;
            const double f = std::strtod(text.c_str() + 10, &end);
            ranks[r].fraction = f;
            ranks[r].stage = *end == ' ' ? std::string(end + 1) : std::string();
            if (forwardLines)
                std::fprintf(stderr, "@progress %zu %s\n", r, text.c_str() + 10);
            redraw(false);
            return;
        }
        clearBar();
        std::fprintf(stderr, "[rank %zu] %s\n", r, text.c_str());
        std::fflush(stderr);
        lastDraw = {};
    };

    std::optional<std::chrono::steady_clock::time_point> failedAt;
    bool terminated = false, killed = false, forwarded = false;
    int open = nproc;
    while (true) {
        if (const int s = g_signal.load(); s != 0 && !forwarded) {
            for (const Rank &k : ranks)
                if (k.running)
                    ::kill(k.pid, SIGINT); // each rank stops at its next checkpoint and keeps its file
            forwarded = true;
        }
        std::vector<pollfd> fds;
        std::vector<std::size_t> owner;
        for (std::size_t r = 0; r < ranks.size(); ++r)
            if (ranks[r].err >= 0) {
                fds.push_back({ranks[r].err, POLLIN, 0});
                owner.push_back(r);
            }
        if (!fds.empty() && ::poll(fds.data(), fds.size(), 100) > 0) {
            for (std::size_t i = 0; i < fds.size(); ++i) {
                if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
                    continue;
                Rank &k = ranks[owner[i]];
                char buffer[4096];
                const ssize_t n = ::read(k.err, buffer, sizeof buffer);
                if (n <= 0) {
                    if (!k.pending.empty())
                        line(owner[i], k.pending);
                    k.pending.clear();
                    ::close(k.err);
                    k.err = -1;
                    --open;
                    continue;
                }
                k.pending.append(buffer, static_cast<std::size_t>(n));
                for (std::size_t nl; (nl = k.pending.find('\n')) != std::string::npos;) {
                    line(owner[i], k.pending.substr(0, nl));
                    k.pending.erase(0, nl + 1);
                }
            }
        } else if (fds.empty()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        int running = 0;
        for (Rank &k : ranks) {
            if (!k.running)
                continue;
            int status = 0;
            if (::waitpid(k.pid, &status, WNOHANG) == k.pid) {
                k.running = false;
                k.code = exitCodeOf(status);
                if (WIFSIGNALED(status)) {
                    clearBar();
                    std::fprintf(stderr, "[rank %td] ended by signal %d (%s)\n", &k - ranks.data(), WTERMSIG(status),
                        ::strsignal(WTERMSIG(status)));
                    lastDraw = {};
                }
                if (k.code != 0 && !failedAt)
                    failedAt = std::chrono::steady_clock::now();
            } else {
                ++running;
            }
        }
        if (running == 0 && open == 0)
            break;
        if (failedAt && running > 0) {
            const auto waited = std::chrono::steady_clock::now() - *failedAt;
            if (!terminated && waited > std::chrono::seconds(graceSeconds)) {
                clearBar();
                std::fprintf(stderr,
                    "blockscope-cli: a rank failed and %d did not stop within %d s; terminating them\n", running,
                    graceSeconds);
                for (const Rank &k : ranks)
                    if (k.running) {
                        ::kill(k.pid, SIGTERM);
                        ::kill(k.pid, SIGCONT); // a stopped rank takes the signal too
                    }
                terminated = true;
            } else if (!killed && waited > std::chrono::seconds(graceSeconds + 5)) {
                for (const Rank &k : ranks)
                    if (k.running)
                        ::kill(k.pid, SIGKILL);
                killed = true;
            }
        }
    }
    clearBar();
    std::signal(SIGINT, previousInt == SIG_ERR ? SIG_DFL : previousInt);
    std::signal(SIGTERM, previousTerm == SIG_ERR ? SIG_DFL : previousTerm);
    if (ranks.front().code != 0)
        return ranks.front().code;
    for (const Rank &k : ranks)
        if (k.code != 0)
            return k.code;
    return 0;
}

} // namespace blockscope::cli
