#include "mappedfile.h"

#include "formaterror.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace blockscope {

std::shared_ptr<const MappedFile> MappedFile::open(const std::string &path)
{
    std::shared_ptr<MappedFile> f(new MappedFile);
    f->m_path = path;
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever; the
    // S_ISREG check below then refuses it. It has no effect on regular files.
    f->m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (f->m_fd < 0)
        throw FormatError(path, FormatError::NoOffset, "", std::string("cannot open: ") + std::strerror(errno));
    struct stat st
    {
    };
    if (::fstat(f->m_fd, &st) != 0)
        throw FormatError(path, FormatError::NoOffset, "", std::string("cannot stat: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        throw FormatError(path, FormatError::NoOffset, "", "not a regular file");
    f->m_size = static_cast<std::uint64_t>(st.st_size);
    if (f->m_size > 0) {
        void *p = ::mmap(nullptr, f->m_size, PROT_READ, MAP_SHARED, f->m_fd, 0);
        if (p == MAP_FAILED)
            throw FormatError(path, FormatError::NoOffset, "", std::string("cannot map: ") + std::strerror(errno));
        f->m_data = static_cast<const std::byte *>(p);
    }
    return f;
}

MappedFile::~MappedFile()
{
    if (m_data)
        ::munmap(const_cast<std::byte *>(m_data), m_size);
    if (m_fd >= 0)
        ::close(m_fd);
}

void MappedFile::releasePages(std::span<const std::byte> bytes)
{
    static const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    auto begin = reinterpret_cast<std::uintptr_t>(bytes.data());
    const auto end = (begin + bytes.size()) / page * page;
    begin = (begin + page - 1) / page * page;
    if (end > begin)
        madvise(reinterpret_cast<void *>(begin), end - begin, MADV_DONTNEED);
}

} // namespace blockscope
