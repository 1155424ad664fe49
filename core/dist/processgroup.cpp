#include "processgroup.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>
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
    return r;
}

struct Group::Impl
{
    Rendezvous where;
    c10::intrusive_ptr<c10d::TCPStore> store;
    c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
    long calls = 0;
};

Group::Group(std::unique_ptr<Impl> impl)
    : m(std::move(impl))
{
}

Group::~Group() = default;

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
            + std::to_string(r.timeout.count()) + " s (" + e.what() + ")");
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
        throw GroupError("rendezvous at " + where(r) + ": the process group did not form (" + e.what() + ")");
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

void Group::requireSame(const std::string &field, const std::string &value)
{
    const std::string prefix = "blockscope/same/" + std::to_string(m->calls++) + "/";
    std::vector<std::string> values(static_cast<std::size_t>(world()));
    try {
        m->store->set(prefix + std::to_string(rank()), bytes(value));
        for (int r = 0; r < world(); ++r)
            values[static_cast<std::size_t>(r)] = text(m->store->get(prefix + std::to_string(r)));
    } catch (const std::exception &e) {
        throw GroupError("comparing " + field + " across the ranks: a rank stopped answering (" + e.what() + ")");
    }
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
        m->group->allreduce(t)->wait();
    } catch (const std::exception &e) {
        throw GroupError("summing over the ranks: a rank stopped answering (" + std::string(e.what()) + ")");
    }
    const double *p = t[0].data_ptr<double>();
    values.assign(p, p + values.size());
}

void Group::barrier()
{
    try {
        m->group->barrier()->wait();
    } catch (const std::exception &e) {
        throw GroupError("waiting for the ranks: a rank stopped answering (" + std::string(e.what()) + ")");
    }
}

} // namespace blockscope::dist
