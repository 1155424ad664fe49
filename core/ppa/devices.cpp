#include "ppa.h"

#include "common/formaterror.h"
#include "common/strictjson.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace blockscope::ppa {

extern const char *const builtInDevicesJson;

namespace {

using nlohmann::json;

std::string squash(const std::string &s)
{
    std::string out;
    for (char c : s)
        if (!std::isspace(static_cast<unsigned char>(c)))
            out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    return out;
}

double positive(const json &entry, const std::string &key, const std::string &path, const std::string &where)
{
    if (!entry.contains(key))
        throw FormatError(path, FormatError::NoOffset, where + "." + key, "is missing");
    const json &v = entry[key];
    if (!v.is_number() || !(v.get<double>() > 0))
        throw FormatError(path, FormatError::NoOffset, where + "." + key, "must be a positive number, got " + v.dump());
    return v.get<double>();
}

} // namespace

DeviceTable DeviceTable::parse(const std::string &text, const std::string &path)
{
    const json root = parseStrictJson(text, path, "device table");
    if (!root.is_object())
        throw FormatError(path, FormatError::NoOffset, "device table", "is not a JSON object");
    if (!root.contains("format") || root["format"] != "blockscope.devices")
        throw FormatError(path, FormatError::NoOffset, "format", "must be \"blockscope.devices\"");
    if (!root.contains("version") || !root["version"].is_number_integer() || root["version"].get<int>() != 1)
        throw FormatError(path, FormatError::NoOffset, "version", "must be 1");
    if (!root.contains("devices") || !root["devices"].is_array() || root["devices"].empty())
        throw FormatError(path, FormatError::NoOffset, "devices", "must be a non-empty array");
    DeviceTable table;
    for (std::size_t i = 0; i < root["devices"].size(); ++i) {
        const json &e = root["devices"][i];
        std::string where = "devices[" + std::to_string(i) + "]";
        if (!e.is_object())
            throw FormatError(path, FormatError::NoOffset, where, "is not an object");
        if (!e.contains("name") || !e["name"].is_string() || e["name"].get<std::string>().empty())
            throw FormatError(path, FormatError::NoOffset, where + ".name", "must be a non-empty string");
        DeviceSpec d;
        d.name = e["name"];
        where += " (" + d.name + ")";
        if (table.find(d.name) && squash(table.find(d.name)->name) == squash(d.name))
            throw FormatError(path, FormatError::NoOffset, where + ".name", "appears twice");
        if (!e.contains("kind") || (e["kind"] != "gpu" && e["kind"] != "cpu"))
            throw FormatError(path, FormatError::NoOffset, where + ".kind", "must be \"gpu\" or \"cpu\"");
        d.kind = e["kind"];
        if (!e.contains("peak_tflops") || !e["peak_tflops"].is_object() || e["peak_tflops"].empty())
            throw FormatError(path, FormatError::NoOffset, where + ".peak_tflops",
                "must be an object of dtype -> TFLOP/s, e.g. {\"float32\": 67}");
        for (const auto &[dtype, v] : e["peak_tflops"].items()) {
            if (dtype != "float32" && dtype != "bfloat16" && dtype != "float16")
                throw FormatError(path, FormatError::NoOffset, where + ".peak_tflops." + dtype,
                    "is not a compute dtype (float32, bfloat16, float16)");
            if (!v.is_number() || !(v.get<double>() > 0))
                throw FormatError(path, FormatError::NoOffset, where + ".peak_tflops." + dtype,
                    "must be a positive number, got " + v.dump());
            d.peakFlops[dtype] = v.get<double>() * 1e12;
        }
        d.bandwidth = positive(e, "memory_bandwidth_gbps", path, where) * 1e9;
        d.boardPower = positive(e, "board_power_w", path, where);
        d.joulesPerFlop = positive(e, "pj_per_flop", path, where) * 1e-12;
        d.joulesPerByte = positive(e, "pj_per_byte", path, where) * 1e-12;
        if (e.contains("sources")) {
            if (!e["sources"].is_object())
                throw FormatError(path, FormatError::NoOffset, where + ".sources", "must be an object of strings");
            for (const auto &[k, v] : e["sources"].items()) {
                if (!v.is_string())
                    throw FormatError(path, FormatError::NoOffset, where + ".sources." + k, "must be a string");
                d.sources[k] = v.get<std::string>();
            }
        }
        table.devices.push_back(std::move(d));
    }
    return table;
}

DeviceTable DeviceTable::load(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw UsageError("--devices: cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return parse(s.str(), path);
}

DeviceTable DeviceTable::builtIn()
{
    return parse(builtInDevicesJson, "resources/ppa/devices.json (built in)");
}

const DeviceSpec *DeviceTable::find(const std::string &name) const
{
    const std::string want = squash(name);
    for (const DeviceSpec &d : devices)
        if (squash(d.name) == want)
            return &d;
    const DeviceSpec *only = nullptr;
    for (const DeviceSpec &d : devices)
        if (squash(d.name).find(want) != std::string::npos) {
            if (only)
                return nullptr; // ambiguous
            only = &d;
        }
    return only;
}

std::string DeviceTable::names() const
{
    std::string s;
    for (const DeviceSpec &d : devices)
        s += (s.empty() ? "" : ", ") + d.name;
    return s;
}

} // namespace blockscope::ppa
