#include "scratchfile.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

namespace blockscope::fuzz {

namespace {
std::filesystem::path scratchDir()
{
    static const std::filesystem::path dir = [] {
        std::error_code ec;
        std::filesystem::path base = std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm" : "/tmp";
        if (const char *t = std::getenv("BLOCKSCOPE_FUZZ_TMP"))
            base = t;
        auto d = base / ("blockscope-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    return dir;
}
} // namespace

std::string writeScratch(const char *name, const std::uint8_t *data, std::size_t size)
{
    const std::string path = (scratchDir() / name).string();
    // A fresh inode each time: truncating a file that an earlier run still mapped would be the
    // rewrite-while-open case the readers document as unsupported.
    std::remove(path.c_str());
    std::FILE *f = std::fopen(path.c_str(), "wb");
    if (!f)
        std::abort();
    if (size > 0 && std::fwrite(data, 1, size, f) != size)
        std::abort();
    std::fclose(f);
    return path;
}

} // namespace blockscope::fuzz
