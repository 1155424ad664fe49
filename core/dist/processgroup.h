#pragma once

// A group of processes that share one search (issue 16): torchrun's rendezvous (RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT), a TCPStore served by rank 0 and a Gloo process group
// from LibTorch's own c10d. LibTorch stays out of this header.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace blockscope::dist {

// A rank could not join, a peer died or the ranks disagree: the message names the address, the
// field or the ranks at fault.
class GroupError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

// Where this process stands in the group.
struct Rendezvous
{
    int rank = 0;
    int world = 1;
    int localRank = 0;
    std::string address = "127.0.0.1";
    int port = 29500;
    std::chrono::seconds timeout{60};
    // A rank whose heartbeat has not moved for this long is taken for dead (Group::watch).
    std::chrono::milliseconds lostAfter{10000};

    // From torchrun's variables; nullopt when WORLD_SIZE is unset (a single process). A malformed
    // or inconsistent variable is a GroupError naming it. BLOCKSCOPE_DIST_TIMEOUT and
    // BLOCKSCOPE_DIST_LOST (seconds) set `timeout` and `lostAfter`.
    static std::optional<Rendezvous> fromEnvironment();
};

class Group
{
public:
    // Joins the group: rank 0 serves the store. A GroupError naming address:port, and how many
    // ranks had arrived, when the group is not complete within the timeout.
    static std::unique_ptr<Group> join(const Rendezvous &where);
    ~Group();
    Group(const Group &) = delete;
    Group &operator=(const Group &) = delete;

    int rank() const;
    int world() const;
    int localRank() const; // this rank's place on its machine: which GPU it takes
    bool isRoot() const { return rank() == 0; }
    // "rank 1 of 2"
    std::string describe() const;

    // Every rank passes its own value of `field` (a model or calibration hash, say); a GroupError on
    // every rank naming the field and each rank's value when they differ.
    void requireSame(const std::string &field, const std::string &value);
    // Element-wise sum over the ranks, in Gloo's fixed ring order (the same order every run).
    void sum(std::vector<double> &values);
    // The same for a tensor, in place (gradients); float tensors sum in their own precision.
    void sum(at::Tensor &values);
    // Every rank's `value`, in rank order, on every rank.
    std::vector<std::string> gather(const std::string &value);
    // Rank 0's `value` on every rank (the others' arguments are ignored).
    std::string broadcast(const std::string &value);
    void barrier();

    // Watches the other ranks while a search runs: every rank beats in the store every few hundred
    // milliseconds from a thread of its own, so a rank busy in a long step still counts as alive. A
    // rank that stops beating for Rendezvous::lostAfter, or a store that stops answering (rank 0 is
    // gone), calls `onLost` once, from that thread, with a message naming the rank; lost() keeps it.
    // The collectives notice a dead peer at once; this catches one between them. stopWatching tells
    // the others this rank finished on purpose (a group destroyed without it has not).
    void watch(std::function<void(const std::string &)> onLost);
    void stopWatching();
    std::optional<std::string> lost() const;
    // Tells the other ranks' watches why this rank stops (an error it cannot go on from): they stop
    // with "rank R of W failed: <why>" instead of waiting for its heartbeat to go quiet.
    void reportFailure(const std::string &why);

private:
    struct Impl;
    explicit Group(std::unique_ptr<Impl> impl);
    std::vector<std::uint8_t> fetch(const std::string &key, const std::string &what);
    void endWatch(bool finished);
    std::unique_ptr<Impl> m;
};

} // namespace blockscope::dist
