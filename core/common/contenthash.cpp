#include "contenthash.h"

#include "common/formaterror.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

namespace blockscope {

namespace {

// FIPS 180-4 SHA-256, streaming.
class Sha256
{
public:
    void update(const void *data, std::size_t size)
    {
        const auto *p = static_cast<const unsigned char *>(data);
        m_length += size;
        while (size > 0) {
            const std::size_t take = std::min(size, m_block.size() - m_used);
            std::memcpy(m_block.data() + m_used, p, take);
            m_used += take;
            p += take;
            size -= take;
            if (m_used == m_block.size()) {
                compress(m_block.data());
                m_used = 0;
            }
        }
    }

    std::string hexDigest()
    {
        const std::uint64_t bits = m_length * 8;
        const unsigned char one = 0x80;
        update(&one, 1);
        const unsigned char zero = 0;
        while (m_used != 56)
            update(&zero, 1);
        unsigned char length[8];
        for (int i = 0; i < 8; ++i)
            length[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
        update(length, 8);
        static const char digits[] = "0123456789abcdef";
        std::string hex;
        for (std::uint32_t word : m_h)
            for (int shift = 28; shift >= 0; shift -= 4)
                hex += digits[(word >> shift) & 0xf];
        return hex;
    }

private:
    static std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

    void compress(const unsigned char *block)
    {
        static constexpr std::uint32_t k[64] = {0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
            0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7,
            0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
            0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
            0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
            0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c,
            0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
            0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
        std::uint32_t w[64];
        for (int i = 0; i < 16; ++i)
            w[i] = std::uint32_t(block[4 * i]) << 24 | std::uint32_t(block[4 * i + 1]) << 16
                | std::uint32_t(block[4 * i + 2]) << 8 | std::uint32_t(block[4 * i + 3]);
        for (int i = 16; i < 64; ++i) {
            const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        std::uint32_t a = m_h[0], b = m_h[1], c = m_h[2], d = m_h[3], e = m_h[4], f = m_h[5], g = m_h[6], h = m_h[7];
        for (int i = 0; i < 64; ++i) {
            const std::uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
            const std::uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        m_h[0] += a;
        m_h[1] += b;
        m_h[2] += c;
        m_h[3] += d;
        m_h[4] += e;
        m_h[5] += f;
        m_h[6] += g;
        m_h[7] += h;
    }

    std::array<std::uint32_t, 8> m_h
        = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::array<unsigned char, 64> m_block{};
    std::size_t m_used = 0;
    std::uint64_t m_length = 0;
};

constexpr std::uint64_t SampledAbove = std::uint64_t(1) << 30;
constexpr std::uint64_t SampleBytes = std::uint64_t(16) << 20;

struct FileCloser
{
    void operator()(std::FILE *f) const { std::fclose(f); }
};

[[noreturn]] void unreadable(const std::filesystem::path &path, const std::string &why)
{
    throw UsageError(path.string() + ": cannot hash: " + why);
}

// Feeds `length` bytes of `path` from `offset` into the hash.
void hashRange(Sha256 &sha, const std::filesystem::path &path, std::FILE *f, std::uint64_t offset, std::uint64_t length,
    std::vector<char> &buffer)
{
    if (std::fseek(f, static_cast<long>(offset), SEEK_SET) != 0)
        unreadable(path, "cannot seek to byte " + std::to_string(offset));
    while (length > 0) {
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(length, buffer.size()));
        const std::size_t got = std::fread(buffer.data(), 1, want, f);
        if (got != want)
            unreadable(path, std::ferror(f) ? "read error" : "the file shrank while it was read");
        sha.update(buffer.data(), got);
        length -= got;
    }
}

// The bytes of one file, or its size, head and tail when sampling.
void hashFile(Sha256 &sha, const std::filesystem::path &path, std::uint64_t size, bool sampled)
{
    std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
    if (!f)
        unreadable(path, std::strerror(errno));
    std::vector<char> buffer(1 << 20);
    if (!sampled || size <= 2 * SampleBytes) {
        hashRange(sha, path, f.get(), 0, size, buffer);
        return;
    }
    hashRange(sha, path, f.get(), 0, SampleBytes, buffer);
    hashRange(sha, path, f.get(), size - SampleBytes, SampleBytes, buffer);
}

void appendSize(Sha256 &sha, std::uint64_t size)
{
    unsigned char le[8];
    for (int i = 0; i < 8; ++i)
        le[i] = static_cast<unsigned char>(size >> (8 * i));
    sha.update(le, 8);
}

struct Entry
{
    std::string name; // relative, '/'-separated
    std::filesystem::path path;
    std::uint64_t size = 0;
};

} // namespace

std::string sha256Hex(const void *data, std::size_t size)
{
    Sha256 sha;
    sha.update(data, size);
    return sha.hexDigest();
}

// A single file hashes as its bytes alone, so "sha256:<hex>" matches `sha256sum`. A folder hashes,
// per regular file in byte order of the relative name: name, NUL, size (8 bytes little-endian), bytes.
// Sampled mode puts the size (8 bytes little-endian) before a single file's head and tail too.
std::string contentHash(const std::string &pathText)
{
    namespace fs = std::filesystem;
    const fs::path path(pathText);
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status))
        unreadable(path, "no such file or folder");

    Sha256 sha;
    if (fs::is_regular_file(status)) {
        const std::uint64_t size = fs::file_size(path, ec);
        if (ec)
            unreadable(path, ec.message());
        const bool sampled = size > SampledAbove;
        if (sampled)
            appendSize(sha, size);
        hashFile(sha, path, size, sampled);
        return (sampled ? "sha256-sampled:" : "sha256:") + sha.hexDigest();
    }
    if (!fs::is_directory(status))
        unreadable(path, "neither a regular file nor a folder");

    std::vector<Entry> entries;
    std::uint64_t total = 0;
    fs::recursive_directory_iterator it(path, ec), end;
    if (ec)
        unreadable(path, ec.message());
    for (; it != end; it.increment(ec)) {
        if (ec)
            unreadable(path, ec.message());
        if (!it->is_regular_file(ec))
            continue;
        const std::uint64_t size = it->file_size(ec);
        if (ec)
            unreadable(it->path(), ec.message());
        entries.push_back({it->path().lexically_relative(path).generic_string(), it->path(), size});
        total += size;
    }
    if (ec)
        unreadable(path, ec.message());
    std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) { return a.name < b.name; });
    const bool sampled = total > SampledAbove;
    for (const auto &e : entries) {
        sha.update(e.name.data(), e.name.size() + 1); // with the terminating NUL
        appendSize(sha, e.size);
        hashFile(sha, e.path, e.size, sampled);
    }
    return (sampled ? "sha256-sampled:" : "sha256:") + sha.hexDigest();
}

} // namespace blockscope
