#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace blockscope {

// A read-only memory map of a whole file. The descriptor stays open for the map's lifetime;
// a file that shrinks while mapped would fault on access, so models must not be rewritten
// while they are open (the size is checked once, at open).
class MappedFile
{
public:
    // Throws FormatError naming the path if the file cannot be opened or mapped.
    static std::shared_ptr<const MappedFile> open(const std::string &path);

    ~MappedFile();
    MappedFile(const MappedFile &) = delete;
    MappedFile &operator=(const MappedFile &) = delete;

    const std::string &path() const { return m_path; }
    std::uint64_t size() const { return m_size; }
    std::span<const std::byte> bytes() const { return {m_data, static_cast<std::size_t>(m_size)}; }
    const std::byte *data() const { return m_data; }

    // Drops the whole pages inside `bytes` (a range of some MappedFile) from this process's resident
    // set. The map stays valid: a later read faults the pages in again from the page cache or the
    // file. Streaming readers call it behind them so that reading a 16 GB checkpoint does not make
    // the process 16 GB resident, and loaders call it after dequantising a tensor.
    static void releasePages(std::span<const std::byte> bytes);

private:
    MappedFile() = default;
    std::string m_path;
    int m_fd = -1;
    const std::byte *m_data = nullptr;
    std::uint64_t m_size = 0;
};

} // namespace blockscope
