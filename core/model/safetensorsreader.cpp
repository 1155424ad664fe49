// safetensors files, single and sharded, with or without a config.json (formats.md §5, §6).
#include "checkpointreaders.h"

#include "common/checkedmath.h"
#include "common/formaterror.h"
#include "common/limits.h"
#include "common/mappedfile.h"
#include "common/strictjson.h"
#include "hfconfig.h"
#include "modelhandle.h"
#include "tensornames.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>

namespace blockscope {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct ShardHeader
{
    std::vector<TensorInfo> tensors;
    std::map<std::string, std::string> metadata;
};

ShardHeader parseSafetensors(const MappedFile &file, int fileIndex, std::vector<std::string> &warnings)
{
    const std::string &path = file.path();
    if (file.size() < 8)
        throw FormatError(path, 0, "header length",
            "file is " + std::to_string(file.size()) + " bytes; a safetensors file needs at least 8");
    std::uint64_t n;
    std::memcpy(&n, file.data(), 8);
    if (n == 0)
        throw FormatError(path, 0, "header length", "is 0");
    if (n > defaultCaps().maxJsonBytes)
        throw FormatError(path, 0, "header length", std::to_string(n) + " bytes exceeds the 100 MB cap");
    if (8 + n > file.size())
        throw FormatError(path, 0, "header length",
            std::to_string(n) + " bytes runs past the end of the " + std::to_string(file.size()) + "-byte file");
    std::string_view text(reinterpret_cast<const char *>(file.data()) + 8, n);
    if (text.substr(0, 3) == "\xEF\xBB\xBF")
        throw FormatError(path, 8, "header", "starts with a UTF-8 byte-order mark, which safetensors does not allow");
    if (text.front() != '{')
        throw FormatError(path, 8, "header", "does not start with '{'");
    StrictJsonOptions opts;
    opts.baseOffset = 8;
    const json header = parseStrictJson(text, path, "header", opts);
    if (!header.is_object())
        throw FormatError(path, 8, "header", "is not a JSON object");

    const std::uint64_t bufferStart = 8 + n;
    const std::uint64_t bufferLen = file.size() - bufferStart;
    ShardHeader out;
    for (const auto &[name, entry] : header.items()) {
        if (name == "__metadata__") {
            if (!entry.is_object())
                throw FormatError(path, 8, "__metadata__", "must be an object of strings");
            for (const auto &[k, v] : entry.items()) {
                if (!v.is_string())
                    throw FormatError(path, 8, "__metadata__." + k, "value must be a string");
                out.metadata[k] = v.get<std::string>();
            }
            continue;
        }
        // A named copy: clang before 16 cannot capture structured bindings in a lambda.
        const std::string &tensorName = name;
        auto fail = [&](const std::string &msg) -> void { throw FormatError(path, 8, tensorName, msg); };
        if (!entry.is_object())
            fail("entry must be an object");
        for (const auto &[k, v] : entry.items())
            if (k != "dtype" && k != "shape" && k != "data_offsets")
                fail("unexpected field \"" + k + "\"");
        if (!entry.contains("dtype") || !entry["dtype"].is_string())
            fail("missing or non-string \"dtype\"");
        if (!entry.contains("shape") || !entry["shape"].is_array())
            fail("missing or non-array \"shape\"");
        if (!entry.contains("data_offsets") || !entry["data_offsets"].is_array())
            fail("missing or non-array \"data_offsets\"");
        const std::string dtypeStr = entry["dtype"].get<std::string>();
        const auto dtype = dtypeFromSafetensorsName(dtypeStr);
        if (!dtype)
            fail("unsupported dtype " + dtypeStr);
        TensorInfo t;
        t.name = name;
        t.sourceName = name;
        t.dtype = *dtype;
        t.storageType = dtypeStr;
        t.fileIndex = fileIndex;
        const auto &shape = entry["shape"];
        if (shape.size() > static_cast<std::size_t>(defaultCaps().maxRank))
            fail("rank " + std::to_string(shape.size()) + " exceeds the cap of 8");
        std::uint64_t count = 1;
        for (const auto &d : shape) {
            if (!d.is_number_unsigned() && !(d.is_number_integer() && d.get<std::int64_t>() >= 0))
                fail("shape entries must be non-negative integers, got " + d.dump());
            const auto dim = d.get<std::uint64_t>();
            if (dim > static_cast<std::uint64_t>(INT64_MAX))
                fail("shape entry " + d.dump() + " is too large");
            auto p = checkedMul(count, dim);
            if (!p)
                fail("the element count of the shape overflows");
            count = *p;
            t.shape.push_back(static_cast<std::int64_t>(dim));
        }
        const auto bytes = checkedMul(count, *dtypeElementSize(*dtype));
        if (!bytes)
            fail("the byte size of the shape overflows");
        const auto &off = entry["data_offsets"];
        if (off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
            fail("data_offsets must be two non-negative integers");
        const auto begin = off[0].get<std::uint64_t>(), end = off[1].get<std::uint64_t>();
        if (begin > end)
            fail("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "] are reversed");
        if (end > bufferLen)
            fail("data_offsets end " + std::to_string(end) + " is past the data buffer (" + std::to_string(bufferLen)
                + " bytes)");
        if (end - begin != *bytes)
            fail("holds " + std::to_string(end - begin) + " bytes but its dtype and shape need "
                + std::to_string(*bytes));
        t.bytes = *bytes;
        t.offset = bufferStart + begin;
        out.tensors.push_back(std::move(t));
    }

    // Overlaps are reported by ModelHandle; holes are legal but suspicious.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    for (const auto &t : out.tensors)
        ranges.emplace_back(t.offset, t.offset + t.bytes);
    std::sort(ranges.begin(), ranges.end());
    std::uint64_t pos = bufferStart;
    for (const auto &[b, e] : ranges) {
        if (b > pos) {
            warnings.push_back(
                path + ": " + std::to_string(b - pos) + " unused bytes at offset " + std::to_string(pos));
            break;
        }
        pos = std::max(pos, e);
    }
    return out;
}

// Infers what the tensors alone can tell when no config.json is beside a .safetensors file.
Architecture inferArchitecture(const std::vector<TensorInfo> &tensors, const std::string &path)
{
    Architecture a;
    a.family = "llama";
    for (const auto &t : tensors) {
        const auto place = classifyTensorName(t.name);
        if (place.block >= 0)
            a.layers = std::max<std::int64_t>(a.layers, place.block + 1);
        if (t.name == "model.embed_tokens.weight" && t.shape.size() == 2) {
            a.vocab = t.shape[0];
            a.hidden = t.shape[1];
        }
        if (t.name == "model.layers.0.mlp.gate_proj.weight" && t.shape.size() == 2)
            a.intermediate = t.shape[0];
    }
    if (a.vocab == 0)
        throw FormatError(path, FormatError::NoOffset, "model.embed_tokens.weight",
            "missing, and there is no config.json beside the file to describe the model");
    a.tiedEmbeddings
        = std::none_of(tensors.begin(), tensors.end(), [](const auto &t) { return t.name == "lm_head.weight"; });
    return a;
}

// A shard name as it can be shown in a message: control characters (a NUL would cut the
// message short wherever it is printed as a C string) become \xHH.
std::string printable(const std::string &s)
{
    std::string r;
    for (unsigned char ch : s) {
        if (ch < 0x20 || ch == 0x7F) {
            const char hex[] = "0123456789abcdef";
            r += "\\x";
            r += hex[ch >> 4];
            r += hex[ch & 15];
        } else {
            r += static_cast<char>(ch);
        }
    }
    return r;
}

bool isPlainFileName(const std::string &s)
{
    if (s.empty() || s == "." || s == "..")
        return false;
    for (char ch : s)
        if (ch == '/' || ch == '\\' || ch == '\0' || ch == ':')
            return false;
    return s.find("..") == std::string::npos;
}

} // namespace

std::shared_ptr<const ModelHandle> readSafetensorsFile(const std::string &path)
{
    ModelHandle::Contents c;
    c.path = path;
    c.format = CheckpointFormat::Safetensors;
    auto file = MappedFile::open(path);
    c.files.push_back(file);
    auto header = parseSafetensors(*file, 0, c.warnings);
    c.tensors = std::move(header.tensors);
    const fs::path config = fs::path(path).parent_path() / "config.json";
    std::error_code ec;
    if (fs::exists(config, ec)) {
        c.architecture = readHfConfig(config.string(), c.warnings);
    } else {
        c.architecture = inferArchitecture(c.tensors, path);
        c.architectureComplete = false;
        c.warnings.push_back("no config.json beside " + path
            + ": heads and RoPE settings are unknown, so the model can be inspected but not run");
    }
    return ModelHandle::fromContents(std::move(c));
}

std::shared_ptr<const ModelHandle> readHuggingFaceFolder(const std::string &folder)
{
    ModelHandle::Contents c;
    c.path = folder;
    c.format = CheckpointFormat::HuggingFace;
    const fs::path dir(folder);
    c.architecture = readHfConfig((dir / "config.json").string(), c.warnings);
    std::error_code ec;
    // The tokenizer files of an HF folder; they are parsed (and their size checked against the
    // model's) when text is tokenized, not when the model is opened.
    if (fs::exists(dir / "tokenizer.json", ec))
        c.tokenizer = TokenizerSummary{"tokenizer.json", (dir / "tokenizer.json").string(), 0};
    else if (fs::exists(dir / "tokenizer.model", ec))
        c.tokenizer = TokenizerSummary{"sentencepiece", (dir / "tokenizer.model").string(), 0};
    const fs::path index = dir / "model.safetensors.index.json";
    if (!fs::exists(index, ec)) {
        const fs::path single = dir / "model.safetensors";
        if (!fs::exists(single, ec))
            throw FormatError(folder, FormatError::NoOffset, "model.safetensors",
                "the folder has neither model.safetensors nor model.safetensors.index.json");
        auto file = MappedFile::open(single.string());
        c.files.push_back(file);
        c.tensors = parseSafetensors(*file, 0, c.warnings).tensors;
        return ModelHandle::fromContents(std::move(c));
    }

    auto indexFile = MappedFile::open(index.string());
    if (indexFile->size() > defaultCaps().maxJsonBytes)
        throw FormatError(index.string(), FormatError::NoOffset, "", "index is larger than 100 MB");
    const json j
        = parseStrictJson(std::string_view(reinterpret_cast<const char *>(indexFile->data()), indexFile->size()),
            index.string(), "index");
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
        throw FormatError(index.string(), FormatError::NoOffset, "weight_map", "missing or not an object");
    const fs::path canonicalDir = fs::canonical(dir, ec);
    std::map<std::string, std::string> weightMap;
    std::map<std::string, int> shardIndex;
    for (const auto &[tensor, shardValue] : j["weight_map"].items()) {
        if (!shardValue.is_string())
            throw FormatError(
                index.string(), FormatError::NoOffset, "weight_map." + tensor, "shard name must be a string");
        const std::string shard = shardValue.get<std::string>();
        if (!isPlainFileName(shard))
            throw FormatError(index.string(), FormatError::NoOffset, "weight_map." + tensor,
                "shard name \"" + printable(shard) + "\" is not a plain file name inside the model folder");
        if (!shardIndex.count(shard)) {
            const fs::path shardPath = dir / shard;
            if (!fs::exists(shardPath, ec))
                throw FormatError(
                    index.string(), FormatError::NoOffset, "weight_map." + tensor, "shard " + shard + " is missing");
            const fs::path canonicalShard = fs::canonical(shardPath, ec);
            if (ec || canonicalShard.parent_path() != canonicalDir)
                throw FormatError(index.string(), FormatError::NoOffset, "weight_map." + tensor,
                    "shard " + shard + " resolves outside the model folder");
            shardIndex[shard] = static_cast<int>(shardIndex.size());
        }
        weightMap[tensor] = shard;
    }
    std::vector<std::string> shards(shardIndex.size());
    for (const auto &[name, i] : shardIndex)
        shards[i] = name;

    // Where each indexed tensor was found, so a tensor held by two shards is reported as such
    // whichever of the two is read first.
    std::map<std::string, std::string> foundIn;
    std::optional<FormatError> misplaced;
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < shards.size(); ++i) {
        auto file = MappedFile::open((dir / shards[i]).string());
        c.files.push_back(file);
        for (auto &t : parseSafetensors(*file, static_cast<int>(i), c.warnings).tensors) {
            auto it = weightMap.find(t.name);
            if (it == weightMap.end()) {
                c.warnings.push_back("tensor " + t.name + " in " + shards[i] + " is not in the index and is ignored");
                continue;
            }
            if (const auto [at, fresh] = foundIn.emplace(t.name, shards[i]); !fresh)
                throw FormatError(file->path(), FormatError::NoOffset, t.name,
                    "tensor appears in two shards, " + at->second + " and " + shards[i]);
            if (it->second != shards[i]) {
                // Reported after all shards are read: the same tensor in two shards is the
                // clearer diagnosis when it applies.
                if (!misplaced)
                    misplaced = FormatError(file->path(), FormatError::NoOffset, t.name,
                        "the index places it in " + it->second + " but it is in " + shards[i]);
                continue;
            }
            sum += t.bytes;
            c.tensors.push_back(std::move(t));
        }
    }
    if (misplaced)
        throw *misplaced;
    for (const auto &[tensor, shard] : weightMap)
        if (!foundIn.count(tensor))
            throw FormatError((dir / shard).string(), FormatError::NoOffset, tensor,
                "the index places it here but the shard does not hold it");
    if (j.contains("metadata") && j["metadata"].is_object() && j["metadata"].contains("total_size")) {
        const auto &ts = j["metadata"]["total_size"];
        if (ts.is_number() && ts.get<double>() != static_cast<double>(sum))
            c.warnings.push_back(
                "index total_size " + ts.dump() + " differs from the tensors' " + std::to_string(sum) + " bytes");
    }
    return ModelHandle::fromContents(std::move(c));
}

} // namespace blockscope

namespace blockscope {

std::vector<TensorInfo> readSafetensorsTensors(
    const MappedFile &file, std::vector<std::string> &warnings, std::map<std::string, std::string> *metadata)
{
    ShardHeader h = parseSafetensors(file, 0, warnings);
    if (metadata)
        *metadata = std::move(h.metadata);
    return std::move(h.tensors);
}

} // namespace blockscope
