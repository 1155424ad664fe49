#include "atomicfile.h"

#include "formaterror.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace blockscope {

void writeFileAtomically(const std::string &path, const std::function<void(std::ostream &)> &write)
{
    const std::string tmp = path + ".partial";
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
        throw IoError("cannot write " + tmp + ": " + std::strerror(errno));
    const auto discard = [&] {
        out.close();
        std::error_code ec;
        std::filesystem::remove(tmp, ec);
    };
    try {
        write(out);
        out.flush();
        if (out)
            out.close();
        if (!out)
            throw IoError("writing " + tmp + " failed: " + std::strerror(errno));
        std::error_code ec;
        std::filesystem::rename(tmp, path, ec);
        if (ec)
            throw IoError("cannot replace " + path + ": " + ec.message());
    } catch (...) {
        discard();
        throw;
    }
}

void writeFileAtomically(const std::string &path, std::string_view bytes)
{
    writeFileAtomically(
        path, [&](std::ostream &out) { out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

} // namespace blockscope
