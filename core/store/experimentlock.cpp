#include "experimentlock.h"

#include "common/formaterror.h"
#include "log/logging.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace blockscope {

namespace fs = std::filesystem;

namespace {

struct Held
{
    int fd = -1;
    int count = 0;
    std::string lockFile;
};

std::mutex &registryMutex()
{
    static std::mutex m;
    return m;
}

std::map<std::string, Held> &registry()
{
    static std::map<std::string, Held> held;
    return held;
}

std::string canonical(const std::string &path)
{
    std::error_code ec;
    const fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
    return ec ? path : p.string();
}

fs::path lockFolder()
{
    const char *runtime = std::getenv("XDG_RUNTIME_DIR");
    if (runtime && *runtime && fs::is_directory(runtime))
        return fs::path(runtime) / "blockscope-locks";
    return fs::path("/tmp") / ("blockscope-locks-" + std::to_string(::getuid()));
}

// What the holder wrote into the lock file: "pid <n> since <time>".
std::string holderOf(int fd)
{
    char buf[256] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string text = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\0'))
        text.pop_back();
    return text;
}

// Temporary copies `<name>.tmp-<pid>` (and of the journal, `<name>.journal.tmp-<pid>`) of writers that are gone: with
// the lock held, no writer of another process is at work, so every copy not of this process is stale.
void removeStaleCopies(const std::string &path)
{
    const fs::path file(path);
    const std::string copy = file.filename().string() + ".tmp-";
    const std::string journalCopy = file.filename().string() + ".journal.tmp-";
    const fs::path folder = file.parent_path().empty() ? fs::path(".") : file.parent_path();
    std::error_code ec;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        const bool isCopy = name.size() > copy.size() && name.compare(0, copy.size(), copy) == 0;
        const bool isJournalCopy
            = name.size() > journalCopy.size() && name.compare(0, journalCopy.size(), journalCopy) == 0;
        if (!isCopy && !isJournalCopy)
            continue;
        const std::string &prefix = isCopy ? copy : journalCopy;
        const std::string pid = name.substr(prefix.size());
        if (pid.find_first_not_of("0123456789") != std::string::npos || pid == std::to_string(::getpid()))
            continue;
        std::error_code removed;
        if (fs::remove(it->path(), removed))
            log::logger(log::Subsystem::Store)
                ->info("removed {}, left by a writer (process {}) that did not finish", it->path().string(), pid);
    }
}

} // namespace

std::string ExperimentWriteLock::lockFileFor(const std::string &path)
{
    const std::string key = canonical(path);
    char name[32];
    std::snprintf(name, sizeof name, "%016zx.lock", std::hash<std::string>{}(key));
    return (lockFolder() / name).string();
}

ExperimentWriteLock::ExperimentWriteLock(const std::string &path)
    : m_key(canonical(path))
{
    const std::lock_guard guard(registryMutex());
    Held &held = registry()[m_key];
    if (held.count > 0) {
        ++held.count;
        return;
    }
    std::error_code ec;
    const fs::path folder = lockFolder();
    fs::create_directories(folder, ec);
    ::chmod(folder.c_str(), 0700);
    const std::string lockFile = lockFileFor(path);
    // Another writer's transaction takes milliseconds: wait a little for it before refusing. A
    // holder removes the lock file as it lets go, so a lock taken on a file that is no longer
    // the one at the path is let go and taken again.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    int fd = -1;
    for (;;) {
        fd = ::open(lockFile.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
            // No place for locks (a read-only /tmp, say): write unguarded rather than not at all.
            log::logger(log::Subsystem::Store)
                ->warn("cannot create the lock file {} ({}): {} is written without a writer lock", lockFile,
                    std::strerror(errno), path);
            registry().erase(m_key);
            m_key.clear();
            return;
        }
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
            struct stat held
            {
            }, now{};
            if (::fstat(fd, &held) == 0 && ::stat(lockFile.c_str(), &now) == 0 && held.st_ino == now.st_ino
                && held.st_dev == now.st_dev)
                break;
            ::close(fd); // the file was removed by the holder we waited for: take the new one
            continue;
        }
        const int error = errno;
        if (error == EWOULDBLOCK && std::chrono::steady_clock::now() < deadline) {
            ::close(fd);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            continue;
        }
        const std::string holder = holderOf(fd);
        ::close(fd);
        registry().erase(m_key);
        if (error == EWOULDBLOCK)
            throw UsageError(path + " is being written by another process" + (holder.empty() ? "" : " (" + holder + ")")
                + ": wait for it to finish, or write to another experiment file");
        throw UsageError(path + ": cannot lock " + lockFile + " for writing: " + std::strerror(error));
    }
    char when[32] = {};
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
    const std::string self = "pid " + std::to_string(::getpid()) + " since " + when + "\n";
    if (::ftruncate(fd, 0) == 0)
        (void)!::pwrite(fd, self.data(), self.size(), 0);
    held.fd = fd;
    held.count = 1;
    held.lockFile = lockFile;
    removeStaleCopies(path);
}

ExperimentWriteLock::~ExperimentWriteLock()
{
    if (m_key.empty())
        return;
    const std::lock_guard guard(registryMutex());
    auto it = registry().find(m_key);
    if (it == registry().end())
        return;
    if (--it->second.count == 0) {
        // Removed while still held, so that lock files do not pile up; whoever opened it meanwhile
        // sees, once it has the lock, that it is no longer the file at the path and takes a new one.
        ::unlink(it->second.lockFile.c_str());
        ::close(it->second.fd); // releases the flock
        registry().erase(it);
    }
}

} // namespace blockscope
