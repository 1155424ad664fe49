#include "experimentjournal.h"

#include "common/formaterror.h"
#include "log/logging.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace blockscope::journal {

namespace fs = std::filesystem;

namespace {

constexpr const char *Header = "blockscope-journal 1\n";
constexpr std::size_t HeaderSize = 21;
static_assert(std::char_traits<char>::length(Header) == HeaderSize);

// FNV-1a, 64 bits: enough to tell a torn or damaged line from an intact one.
std::uint64_t checksum(const std::string &text)
{
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

std::string line(const Record &r)
{
    const std::string payload = nlohmann::json{{"run", r.run}, {"started", r.started}, {"body", r.body}}.dump();
    char sum[17];
    std::snprintf(sum, sizeof sum, "%016llx", static_cast<unsigned long long>(checksum(payload)));
    return std::string(sum) + " " + payload + "\n";
}

// What this process knows of a journal it appended to: if the file is still the same (device,
// inode, size), the next append need not read it again.
struct Known
{
    dev_t device = 0;
    ino_t inode = 0;
    std::uintmax_t bytes = 0;
    std::map<std::string, int> nextStep; // per run id + "\n" + start time
};

std::string runKey(const std::string &run, const std::string &started)
{
    return run + "\n" + started;
}

int stepIndexOf(const Record &r)
{
    if (r.body.value("type", std::string()) != "step" || !r.body.contains("step") || !r.body["step"].is_object())
        return -1;
    const auto &i = r.body["step"].value("index", nlohmann::json());
    return i.is_number_integer() ? static_cast<int>(i.get<std::int64_t>()) : -1;
}

std::map<std::string, int> nextSteps(const std::vector<Record> &records)
{
    std::map<std::string, int> next;
    for (const Record &r : records) {
        int &n = next[runKey(r.run, r.started)];
        n = std::max(n, stepIndexOf(r) + 1);
    }
    return next;
}

std::mutex &knownMutex()
{
    static std::mutex m;
    return m;
}

std::map<std::string, Known> &known()
{
    static std::map<std::string, Known> k;
    return k;
}

// After a read (`records` given) or an append of `appended`: the journal as it is now.
void remember(const std::string &journal, int fd, const std::vector<Record> *records, const Record *appended)
{
    struct stat st = {};
    const std::lock_guard guard(knownMutex());
    if (::fstat(fd, &st) != 0) {
        known().erase(journal);
        return;
    }
    Known &k = known()[journal];
    k.device = st.st_dev;
    k.inode = st.st_ino;
    k.bytes = static_cast<std::uintmax_t>(st.st_size);
    if (records)
        k.nextStep = nextSteps(*records);
    if (appended) {
        int &n = k.nextStep[runKey(appended->run, appended->started)];
        n = std::max(n, stepIndexOf(*appended) + 1);
    }
}

void forget(const std::string &journal)
{
    const std::lock_guard guard(knownMutex());
    known().erase(journal);
}

bool unchanged(const std::string &journal, int fd)
{
    struct stat st = {};
    if (::fstat(fd, &st) != 0)
        return false;
    const std::lock_guard guard(knownMutex());
    const auto it = known().find(journal);
    return it != known().end() && it->second.device == st.st_dev && it->second.inode == st.st_ino
        && it->second.bytes == static_cast<std::uintmax_t>(st.st_size);
}

void writeAll(int fd, const std::string &text, const std::string &path)
{
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw UsageError(path + ": cannot write: " + std::strerror(errno));
        done += static_cast<std::size_t>(n);
    }
}

void syncFolder(const std::string &file)
{
    const fs::path parent = fs::path(file).parent_path();
    const int fd = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (::fsync(fd) != 0)
        log::logger(log::Subsystem::Store)
            ->warn("{}: cannot sync the folder: {}", parent.string(), std::strerror(errno));
    ::close(fd);
}

struct Fd
{
    int fd = -1;
    ~Fd()
    {
        if (fd >= 0)
            ::close(fd);
    }
};

} // namespace

std::string pathFor(const std::string &experiment)
{
    return experiment + ".journal";
}

std::uintmax_t size(const std::string &experiment)
{
    std::error_code ec;
    const auto n = fs::file_size(pathFor(experiment), ec);
    return ec ? 0 : n;
}

Contents read(const std::string &experiment)
{
    const std::string path = pathFor(experiment);
    Contents c;
    std::error_code ec;
    if (!fs::exists(path, ec))
        return c;
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw UsageError(path + ": cannot open the experiment's journal");
    std::ostringstream all;
    all << in.rdbuf();
    const std::string text = all.str();
    c.fileBytes = text.size();
    if (text.empty())
        return c; // created, killed before the header: nothing in it
    if (text.compare(0, HeaderSize, Header) != 0) {
        if (text.size() < HeaderSize && std::string(Header).compare(0, text.size(), text) == 0) {
            c.damage = "the header is incomplete";
            return c;
        }
        throw FormatError(path, 0, "header",
            "not a Blockscope experiment journal (it should start with \"blockscope-journal 1\"); move it away to open "
                + experiment);
    }
    std::size_t pos = HeaderSize;
    c.goodBytes = pos;
    while (pos < text.size()) {
        const std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) {
            c.damage = "the last record is incomplete (its writer stopped while writing it)";
            break;
        }
        const std::string_view l(text.data() + pos, end - pos);
        std::uint64_t sum = 0;
        Record r;
        bool ok = l.size() > 17 && l[16] == ' ';
        if (ok) {
            const std::string hex(l.substr(0, 16));
            char *stop = nullptr;
            sum = std::strtoull(hex.c_str(), &stop, 16);
            ok = stop == hex.c_str() + 16;
        }
        const std::string payload = ok ? std::string(l.substr(17)) : std::string();
        ok = ok && checksum(payload) == sum;
        if (ok) {
            const auto j = nlohmann::json::parse(payload, nullptr, false);
            ok = j.is_object() && j.contains("run") && j["run"].is_string() && j.contains("started")
                && j["started"].is_string() && j.contains("body") && j["body"].is_object();
            if (ok)
                r = {j["run"].get<std::string>(), j["started"].get<std::string>(), j["body"]};
        }
        if (!ok) {
            c.damage = "the record at byte " + std::to_string(pos) + " is damaged";
            break;
        }
        c.records.push_back(std::move(r));
        c.offsets.push_back(pos);
        pos = end + 1;
        c.goodBytes = pos;
    }
    return c;
}

void append(const std::string &experiment, const Record &record)
{
    const std::string path = pathFor(experiment);
    Fd f{::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)};
    if (f.fd < 0)
        throw UsageError(path + ": cannot open the experiment's journal to write: " + std::strerror(errno));
    if (!unchanged(path, f.fd)) {
        // Not what this process last wrote: find where the intact records end and cut there.
        const Contents c = read(experiment);
        remember(path, f.fd, &c.records, nullptr);
        if (c.goodBytes < c.fileBytes) {
            log::logger(log::Subsystem::Store)
                ->warn("{}: {}; dropped its last {} bytes", path, c.damage, c.fileBytes - c.goodBytes);
            if (::ftruncate(f.fd, static_cast<off_t>(c.goodBytes)) != 0)
                throw UsageError(path + ": cannot cut a damaged record: " + std::strerror(errno));
        }
        if (c.goodBytes == 0) {
            if (::lseek(f.fd, 0, SEEK_SET) < 0)
                throw UsageError(path + ": cannot seek: " + std::strerror(errno));
            writeAll(f.fd, Header, path);
            if (::fsync(f.fd) != 0)
                throw UsageError(path + ": cannot sync: " + std::strerror(errno));
            syncFolder(path);
        }
    }
    if (::lseek(f.fd, 0, SEEK_END) < 0)
        throw UsageError(path + ": cannot seek: " + std::strerror(errno));
    writeAll(f.fd, line(record), path);
    if (::fdatasync(f.fd) != 0) {
        forget(path);
        throw UsageError(path + ": cannot sync: " + std::strerror(errno));
    }
    remember(path, f.fd, nullptr, &record);
}

int nextStep(const std::string &experiment, const std::string &run, const std::string &started)
{
    const std::string path = pathFor(experiment);
    Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (f.fd < 0)
        return 0;
    if (!unchanged(path, f.fd)) {
        const Contents c = read(experiment);
        if (c.goodBytes < c.fileBytes) // the next append must cut the damaged tail: nothing is remembered
            return nextSteps(c.records)[runKey(run, started)];
        remember(path, f.fd, &c.records, nullptr);
    }
    const std::lock_guard guard(knownMutex());
    const auto &next = known()[path].nextStep;
    const auto it = next.find(runKey(run, started));
    return it == next.end() ? 0 : it->second;
}

void rewrite(const std::string &experiment, const std::vector<Record> &keep)
{
    const std::string path = pathFor(experiment);
    forget(path);
    std::error_code ec;
    if (keep.empty()) {
        if (fs::remove(path, ec))
            syncFolder(path);
        else if (ec)
            throw UsageError(path + ": cannot remove the folded journal: " + ec.message());
        return;
    }
    const std::string temp = path + ".tmp-" + std::to_string(::getpid());
    {
        Fd f{::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
        if (f.fd < 0)
            throw UsageError(temp + ": cannot create: " + std::strerror(errno));
        std::string text = Header;
        for (const Record &r : keep)
            text += line(r);
        try {
            writeAll(f.fd, text, temp);
            if (::fsync(f.fd) != 0)
                throw UsageError(temp + ": cannot sync: " + std::strerror(errno));
        } catch (...) {
            fs::remove(temp, ec);
            throw;
        }
    }
    if (std::rename(temp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        fs::remove(temp, ec);
        throw UsageError(path + ": cannot replace with " + temp + ": " + why);
    }
    syncFolder(path);
}

} // namespace blockscope::journal
