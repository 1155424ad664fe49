#include "processgroup.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace blockscope::dist {

namespace {

std::optional<long> envNumber(const char *name, long low, long high)
{
    const char *text = std::getenv(name);
    if (text == nullptr || *text == '\0')
        return std::nullopt;
    char *end = nullptr;
    const long v = std::strtol(text, &end, 10);
    if (*end != '\0' || v < low || v > high)
        throw GroupError(std::string(name) + "=\"" + text + "\" is not a whole number in [" + std::to_string(low) + ", "
            + std::to_string(high) + "]");
    return v;
}

// An exception's message without the C++ backtrace c10 appends to its own.
std::string reason(const std::exception &e)
{
    if (const auto *c = dynamic_cast<const c10::Error *>(&e))
        return c->what_without_backtrace();
    return e.what();
}

std::string where(const Rendezvous &r)
{
    return r.address + ":" + std::to_string(r.port);
}

std::string text(const std::vector<std::uint8_t> &bytes)
{
    return std::string(bytes.begin(), bytes.end());
}

std::vector<std::uint8_t> bytes(const std::string &s)
{
    return std::vector<std::uint8_t>(s.begin(), s.end());
}

std::shared_ptr<::gloo::transport::Device> device(const std::string &address)
{
    if (const char *iface = std::getenv("GLOO_SOCKET_IFNAME"); iface != nullptr && *iface != '\0')
        return c10d::ProcessGroupGloo::createDeviceForInterface(iface);
    if (address == "127.0.0.1" || address == "localhost")
        return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
    return c10d::ProcessGroupGloo::createDefaultDevice();
}

// Waits for a collective. A dead peer fails it at once; a silent one (stopped, or its machine
// gone without closing the connection) would hold it until the group's timeout, so the watch's
// verdict ends the wait too.
void complete(const Group &group, const c10::intrusive_ptr<c10d::Work> &work, const std::string &what)
{
    try {
        while (!work->isCompleted()) {
            if (const auto gone = group.lost())
                throw GroupError(what + ": " + *gone);
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        work->wait();
    } catch (const GroupError &) {
        throw;
    } catch (const std::exception &e) {
        throw GroupError(what + ": a rank stopped answering (" + reason(e) + ")");
    }
}

} // namespace

std::optional<Rendezvous> Rendezvous::fromEnvironment()
{
    const auto world = envNumber("WORLD_SIZE", 1, 65536);
    if (!world)
        return std::nullopt;
    Rendezvous r;
    r.world = static_cast<int>(*world);
    const auto rank = envNumber("RANK", 0, r.world - 1);
    if (!rank)
        throw GroupError("WORLD_SIZE is set but RANK is not");
    r.rank = static_cast<int>(*rank);
    r.localRank = static_cast<int>(envNumber("LOCAL_RANK", 0, r.world - 1).value_or(0));
    if (const char *a = std::getenv("MASTER_ADDR"); a != nullptr && *a != '\0')
        r.address = a;
    r.port = static_cast<int>(envNumber("MASTER_PORT", 1, 65535).value_or(r.port));
    if (const auto s = envNumber("BLOCKSCOPE_DIST_TIMEOUT", 1, 86400))
        r.timeout = std::chrono::seconds(*s);
    if (const auto s = envNumber("BLOCKSCOPE_DIST_LOST", 1, 86400))
        r.lostAfter = std::chrono::seconds(*s);
    return r;
}

struct Group::Impl
{
    Rendezvous where;
    c10::intrusive_ptr<c10d::TCPStore> store;
    c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
    long calls = 0;

    // The watch thread and what it found.
    std::thread watcher;
    std::mutex mutex;
    std::condition_variable wake;
    bool stopping = false;
    bool finished = false; // stopped on purpose: the others are told
    std::optional<std::string> lost;
    bool broken = false; // a collective failed: its work may never finish
};

Group::Group(std::unique_ptr<Impl> impl)
    : m(std::move(impl))
{
}

Group::~Group()
{
    endWatch(false);
    // Gloo's destructor waits for unfinished work, which a silent peer holds until the group's
    // timeout: a broken group is left to the process's exit instead.
    if (m->broken)
        (void)m->group.release();
}

std::unique_ptr<Group> Group::join(const Rendezvous &r)
{
    if (r.world < 1 || r.rank < 0 || r.rank >= r.world)
        throw GroupError("rank " + std::to_string(r.rank) + " is not in a group of " + std::to_string(r.world));
    auto impl = std::make_unique<Impl>();
    impl->where = r;
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(r.port);
    options.isServer = r.rank == 0;
    options.numWorkers = r.world;
    options.waitWorkers = false; // counted below, so a timeout can say how many came
    options.timeout = r.timeout;
    try {
        impl->store = c10::make_intrusive<c10d::TCPStore>(r.address, options);
    } catch (const std::exception &e) {
        throw GroupError("rendezvous at " + where(r) + ": "
            + (r.rank == 0 ? std::string("cannot serve the store") : std::string("cannot reach rank 0")) + " within "
            + std::to_string(r.timeout.count()) + " s (" + reason(e) + ")");
    }
    const std::string joined = "blockscope/joined";
    std::int64_t arrived = impl->store->add(joined, 1);
    const auto deadline = std::chrono::steady_clock::now() + r.timeout;
    while (arrived < r.world) {
        if (std::chrono::steady_clock::now() > deadline)
            throw GroupError("rendezvous at " + where(r) + ": " + std::to_string(arrived) + " of "
                + std::to_string(r.world) + " ranks joined within " + std::to_string(r.timeout.count()) + " s");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        arrived = impl->store->add(joined, 0);
    }
    auto gloo = c10d::ProcessGroupGloo::Options::create();
    gloo->devices.push_back(device(r.address));
    gloo->timeout = r.timeout;
    try {
        impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(
            c10::make_intrusive<c10d::PrefixStore>("gloo", impl->store), r.rank, r.world, gloo);
    } catch (const std::exception &e) {
        throw GroupError("rendezvous at " + where(r) + ": the process group did not form (" + reason(e) + ")");
    }
    return std::unique_ptr<Group>(new Group(std::move(impl)));
}

int Group::rank() const
{
    return m->where.rank;
}

int Group::world() const
{
    return m->where.world;
}

int Group::localRank() const
{
    return m->where.localRank;
}

std::string Group::describe() const
{
    return "rank " + std::to_string(rank()) + " of " + std::to_string(world());
}

// Waits for `key` in the store; gives up when the watch finds a rank lost (a rank that failed
// before it wrote its part) or after the group's timeout.
std::vector<std::uint8_t> Group::fetch(const std::string &key, const std::string &what)
{
    const auto deadline = std::chrono::steady_clock::now() + m->where.timeout;
    try {
        while (!m->store->check({key})) {
            if (const auto gone = lost())
                throw GroupError(what + ": " + *gone);
            if (std::chrono::steady_clock::now() > deadline)
                throw GroupError(what + ": no answer within " + std::to_string(m->where.timeout.count()) + " s");
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return m->store->get(key);
    } catch (const GroupError &) {
        throw;
    } catch (const std::exception &e) {
        throw GroupError(what + ": a rank stopped answering (" + reason(e) + ")");
    }
}

std::vector<std::string> Group::gather(const std::string &value)
{
    const std::string prefix = "blockscope/gather/" + std::to_string(m->calls++) + "/";
    try {
        m->store->set(prefix + std::to_string(rank()), bytes(value));
    } catch (const std::exception &e) {
        throw GroupError("exchanging with the ranks: rank 0 stopped answering (" + reason(e) + ")");
    }
    std::vector<std::string> values(static_cast<std::size_t>(world()));
    for (int r = 0; r < world(); ++r)
        values[static_cast<std::size_t>(r)] = text(fetch(prefix + std::to_string(r), "exchanging with the ranks"));
    return values;
}

void Group::requireSame(const std::string &field, const std::string &value)
{
    const std::vector<std::string> values = gather(value);
    for (const std::string &v : values)
        if (v != values.front()) {
            std::string message = "the ranks disagree on " + field + ":";
            for (int r = 0; r < world(); ++r)
                message
                    += (r ? ", rank " : " rank ") + std::to_string(r) + " has " + values[static_cast<std::size_t>(r)];
            throw GroupError(message);
        }
}

void Group::sum(std::vector<double> &values)
{
    std::vector<at::Tensor> t{at::tensor(values, at::kDouble)};
    try {
        complete(*this, m->group->allreduce(t), "summing over the ranks");
    } catch (const GroupError &) {
        m->broken = true;
        throw;
    }
    const double *p = t[0].data_ptr<double>();
    values.assign(p, p + values.size());
}

void Group::sum(at::Tensor &values)
{
    std::vector<at::Tensor> t{values.is_contiguous() ? values : values.contiguous()};
    try {
        complete(*this, m->group->allreduce(t), "summing over the ranks");
    } catch (const GroupError &) {
        m->broken = true;
        throw;
    }
    if (!t[0].is_same(values))
        values.copy_(t[0]);
}

std::string Group::broadcast(const std::string &value)
{
    const std::string key = "blockscope/broadcast/" + std::to_string(m->calls++);
    if (!isRoot())
        return text(fetch(key, "waiting for rank 0"));
    try {
        m->store->set(key, bytes(value));
    } catch (const std::exception &e) {
        throw GroupError("sending to the ranks: the store stopped answering (" + reason(e) + ")");
    }
    return value;
}

void Group::watch(std::function<void(const std::string &)> onLost)
{
    stopWatching();
    {
        std::lock_guard lock(m->mutex);
        m->stopping = false;
    }
    // A connection of its own: the collectives' store calls never wait on this thread's.
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(m->where.port);
    options.isServer = false;
    options.waitWorkers = false;
    options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::min<std::chrono::milliseconds>(m->where.lostAfter, std::chrono::seconds(5)));
    c10::intrusive_ptr<c10d::TCPStore> client;
    try {
        client = c10::make_intrusive<c10d::TCPStore>(m->where.address, options);
    } catch (const std::exception &e) {
        throw GroupError("watching the ranks: cannot reach the store at " + where(m->where) + " (" + reason(e) + ")");
    }
    m->watcher = std::thread([this, client, onLost = std::move(onLost)] {
        const auto beat = [](int r) { return "blockscope/beat/" + std::to_string(r); };
        const auto done = [](int r) { return "blockscope/done/" + std::to_string(r); };
        const auto failed = [](int r) { return "blockscope/failed/" + std::to_string(r); };
        const int W = world(), me = rank();
        std::vector<std::int64_t> last(static_cast<std::size_t>(W), -1);
        std::vector<std::chrono::steady_clock::time_point> moved(
            static_cast<std::size_t>(W), std::chrono::steady_clock::now());
        std::optional<std::string> found;
        std::unique_lock lock(m->mutex);
        while (!m->stopping && !found) {
            lock.unlock();
            try {
                client->add(beat(me), 1);
                const auto now = std::chrono::steady_clock::now();
                for (int r = 0; r < W && !found; ++r) {
                    const auto i = static_cast<std::size_t>(r);
                    if (r == me || client->check({done(r)}))
                        continue;
                    if (client->check({failed(r)})) {
                        found = "rank " + std::to_string(r) + " of " + std::to_string(W)
                            + " failed: " + text(client->get(failed(r)));
                        break;
                    }
                    const std::int64_t v = client->add(beat(r), 0);
                    if (v != last[i]) {
                        last[i] = v;
                        moved[i] = now;
                    } else if (now - moved[i] > m->where.lostAfter) {
                        found = "rank " + std::to_string(r) + " of " + std::to_string(W) + " stopped answering (no "
                            + "heartbeat for "
                            + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - moved[i]).count())
                            + " s)";
                    }
                }
            } catch (const std::exception &e) {
                found = "rank 0 of " + std::to_string(W) + " stopped answering: its store at " + where(m->where)
                    + " is gone (" + reason(e) + ")";
            }
            lock.lock();
            if (found) {
                m->lost = found;
                break;
            }
            m->wake.wait_for(lock, std::chrono::milliseconds(250), [this] { return m->stopping; });
        }
        const bool finished = m->stopping && m->finished && !found;
        lock.unlock();
        if (found && onLost)
            onLost(*found);
        if (finished) {
            try {
                client->set(done(me), bytes("1"));
            } catch (const std::exception &) {
                // the store is gone with rank 0, which has finished too
            }
        }
    });
}

void Group::stopWatching()
{
    endWatch(true);
}

void Group::reportFailure(const std::string &why)
{
    try {
        m->store->set("blockscope/failed/" + std::to_string(rank()), bytes(why));
    } catch (const std::exception &) {
        // the store went with rank 0: the others see that for themselves
    }
}

void Group::endWatch(bool finished)
{
    {
        std::lock_guard lock(m->mutex);
        m->stopping = true;
        m->finished = finished;
    }
    m->wake.notify_all();
    if (m->watcher.joinable())
        m->watcher.join();
}

std::optional<std::string> Group::lost() const
{
    std::lock_guard lock(m->mutex);
    return m->lost;
}

void Group::barrier()
{
    try {
        complete(*this, m->group->barrier(), "waiting for the ranks");
    } catch (const GroupError &) {
        m->broken = true;
        throw;
    }
}

} // namespace blockscope::dist
