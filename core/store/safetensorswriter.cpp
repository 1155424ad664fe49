#include "safetensorswriter.h"

#include "common/formaterror.h"

#include <algorithm>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace blockscope {

void writeSafetensors(
    const std::string &path, std::vector<SafetensorsEntry> entries, const std::map<std::string, std::string> &metadata)
{
    std::stable_sort(entries.begin(), entries.end(), [](const auto &a, const auto &b) {
        const auto sa = dtypeElementSize(a.dtype).value_or(1), sb = dtypeElementSize(b.dtype).value_or(1);
        return sa != sb ? sa > sb : a.name < b.name;
    });
    // nlohmann's ordered_json keeps insertion order so the header lists tensors in data order.
    nlohmann::ordered_json header;
    nlohmann::ordered_json meta = {{"format", "pt"}};
    for (const auto &[k, v] : metadata)
        meta[k] = v;
    header["__metadata__"] = meta;
    std::uint64_t offset = 0;
    for (const auto &e : entries) {
        if (!dtypeElementSize(e.dtype))
            throw std::invalid_argument(
                "cannot write tensor " + e.name + " of type " + std::string(dtypeName(e.dtype)));
        header[e.name] = {{"dtype", std::string(dtypeName(e.dtype))}, {"shape", e.shape},
            {"data_offsets", {offset, offset + e.data.size()}}};
        offset += e.data.size();
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    const std::uint64_t n = text.size();

    const std::string tmp = path + ".partial";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out)
            throw IoError("cannot write " + tmp + ": " + std::strerror(errno));
        out.write(reinterpret_cast<const char *>(&n), 8);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        for (const auto &e : entries)
            out.write(reinterpret_cast<const char *>(e.data.data()), static_cast<std::streamsize>(e.data.size()));
        out.flush();
        if (!out)
            throw IoError("writing " + tmp + " failed: " + std::strerror(errno));
    }
    std::filesystem::rename(tmp, path);
}

} // namespace blockscope
