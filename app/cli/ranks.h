#pragma once

// Commands that run as several processes (issue 16): joining the group torchrun's variables
// describe, and `--nproc N`, which starts the N ranks on this machine itself.

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace blockscope::dist {
class Group;
}

namespace blockscope::cli {

// The command line blockscope-cli was started with (main sets it), so a launcher can start itself.
void setCommandLine(int argc, char **argv);

// The group this process belongs to when torchrun's variables (WORLD_SIZE, RANK, MASTER_ADDR,
// MASTER_PORT, LOCAL_RANK) are set; null when they are not. BLOCKSCOPE_DIST_TIMEOUT (seconds,
// default 60) bounds the rendezvous and every collective, BLOCKSCOPE_DIST_LOST (seconds, default
// 10) how long a silent rank is waited for.
std::unique_ptr<dist::Group> joinGroupFromEnvironment();

// True in a process a launcher started as one of its ranks: its progress goes to stderr as
// "@progress FRACTION STAGE" lines for the launcher to gather instead of a bar.
bool reportsProgressAsLines();

// Starts this command line again as `nproc` ranks on 127.0.0.1 (without `--nproc`), each with
// torchrun's variables, a free MASTER_PORT (unless MASTER_PORT is set), and `threadsPerRank`
// threads unless the command line sets --threads. Rank 0's standard output passes through; every
// rank's standard error is passed on with "[rank R] " before each line, and their progress is drawn
// as one line on a terminal (or, when this launcher itself reports progress as lines, passed on as
// "@progress R FRACTION STAGE"). Ctrl-C and SIGTERM are passed to every rank. When a rank fails,
// the others are given `grace` seconds to stop on their own (they notice within seconds), then
// terminated. Returns rank 0's exit code, or the first failing rank's when rank 0 succeeded.
int launchRanks(int nproc, int threadsPerRank, int graceSeconds = 10);

// What a command that can run as ranks does first: with `nproc` > 1, starts the ranks itself and
// returns the launcher's exit code (refused under torchrun); otherwise nullopt, and `group` holds
// this process's group when torchrun's variables are set (null when it runs alone).
std::optional<int> launchOrJoin(int nproc, std::unique_ptr<dist::Group> &group);

// The option every such command takes.
void addNprocOption(CLI::App *cmd, int &nproc);

} // namespace blockscope::cli
