#include "safetensorswriter.h"

#include "common/atomicfile.h"

#include "common/formaterror.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace blockscope {

void writeSafetensorsStreamed(
    const std::string &path, std::vector<SafetensorsSource> entries, const std::map<std::string, std::string> &metadata)
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
            {"data_offsets", {offset, offset + e.bytes}}};
        offset += e.bytes;
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    const std::uint64_t n = text.size();

    writeFileAtomically(path, [&](std::ostream &out) {
        out.write(reinterpret_cast<const char *>(&n), 8);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        for (const auto &e : entries) {
            const auto before = out.tellp();
            e.write(out);
            if (!out)
                return; // writeFileAtomically reports the stream's failure
            if (static_cast<std::uint64_t>(out.tellp() - before) != e.bytes)
                throw std::logic_error("tensor " + e.name + ": " + std::to_string(out.tellp() - before)
                    + " bytes written, " + std::to_string(e.bytes) + " declared");
        }
    });
}

void writeSafetensors(
    const std::string &path, std::vector<SafetensorsEntry> entries, const std::map<std::string, std::string> &metadata)
{
    std::vector<SafetensorsSource> sources;
    sources.reserve(entries.size());
    for (const auto &e : entries)
        sources.push_back(
            {e.name, e.dtype, e.shape, e.data.size(), [data = e.data](std::ostream &out) {
                 out.write(reinterpret_cast<const char *>(data.data()), static_cast<std::streamsize>(data.size()));
             }});
    writeSafetensorsStreamed(path, std::move(sources), metadata);
}

} // namespace blockscope
