#include "modelhandle.h"

#include "checkpointreaders.h"
#include "common/checkedmath.h"
#include "common/formaterror.h"
#include "common/limits.h"
#include "common/mappedfile.h"
#include "log/logging.h"
#include "tensornames.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <unordered_map>

namespace blockscope {

namespace fs = std::filesystem;

std::string formatName(CheckpointFormat f)
{
    switch (f) {
    case CheckpointFormat::HuggingFace: return "Hugging Face folder";
    case CheckpointFormat::Safetensors: return "safetensors";
    case CheckpointFormat::Gguf: return "GGUF";
    case CheckpointFormat::Llama2c: return "llama2.c";
    }
    return "?";
}

std::string_view roleName(TensorRole r)
{
    switch (r) {
    case TensorRole::Embedding: return "embedding";
    case TensorRole::Attention: return "attention";
    case TensorRole::Mlp: return "mlp";
    case TensorRole::FinalNorm: return "final norm";
    case TensorRole::LmHead: return "lm head";
    case TensorRole::Other: return "other";
    }
    return "?";
}

std::uint64_t TensorInfo::elementCount() const
{
    std::uint64_t n = 1;
    for (auto s : shape)
        n *= static_cast<std::uint64_t>(s);
    return n;
}

namespace {

void checkArchitecture(const Architecture &a, const std::string &file, bool complete)
{
    const SanityCaps &caps = defaultCaps();
    auto range = [&](std::string_view field, std::int64_t v, std::int64_t cap) {
        if (v <= 0 || v > cap)
            throw FormatError(file, FormatError::NoOffset, std::string(field),
                "value " + std::to_string(v) + " is outside 1.." + std::to_string(cap));
    };
    range("layers", a.layers, caps.maxLayers);
    range("hidden size", a.hidden, caps.maxHidden);
    range("intermediate size", a.intermediate, caps.maxFfn);
    range("vocabulary size", a.vocab, caps.maxVocab);
    if (!complete)
        return;
    range("attention heads", a.heads, caps.maxHeads);
    range("key/value heads", a.kvHeads, caps.maxHeads);
    range("head dimension", a.headDim, caps.maxHidden);
    range("context length", a.context, caps.maxContext);
    if (a.heads % a.kvHeads != 0)
        throw FormatError(file, FormatError::NoOffset, "key/value heads",
            std::to_string(a.kvHeads) + " does not divide the " + std::to_string(a.heads) + " attention heads");
    if (a.headDim % 2 != 0)
        throw FormatError(
            file, FormatError::NoOffset, "head dimension", std::to_string(a.headDim) + " is odd; RoPE rotates pairs");
}

// The bytes a tensor's shape and type need, or nullopt when they overflow. Readers compute
// t.bytes themselves; checking it again here means every later read of data(t) (statistics,
// export, upload) can trust shape, type and byte range to agree, whatever reader built them.
std::optional<std::uint64_t> neededBytes(const TensorInfo &t)
{
    std::uint64_t n = 1;
    for (auto d : t.shape) {
        if (d < 0)
            return std::nullopt;
        const auto p = checkedMul(n, static_cast<std::uint64_t>(d));
        if (!p)
            return std::nullopt;
        n = *p;
    }
    if (const auto size = dtypeElementSize(t.dtype))
        return checkedMul(n, *size);
    if (const auto block = dtypeBlock(t.dtype)) {
        if (t.shape.empty() || static_cast<std::uint64_t>(t.shape.back()) % block->elements != 0)
            return std::nullopt;
        return checkedMul(n / block->elements, block->bytes);
    }
    return t.bytes; // unsupported quantisations are listed, never read
}

} // namespace

ModelHandle::ModelHandle(Contents c)
    : m_c(std::move(c))
{
}

std::shared_ptr<const ModelHandle> ModelHandle::fromContents(Contents c)
{
    const std::string mainFile = c.files.empty() ? c.path : c.files.front()->path();
    checkArchitecture(c.architecture, mainFile, c.architectureComplete);

    // Names unique, ranges inside their files.
    std::unordered_map<std::string, int> byName;
    for (std::size_t i = 0; i < c.tensors.size(); ++i) {
        TensorInfo &t = c.tensors[i];
        if (t.fileIndex < 0 || t.fileIndex >= static_cast<int>(c.files.size()))
            throw FormatError(c.path, FormatError::NoOffset, t.sourceName, "refers to a file that was not opened");
        const auto &f = *c.files[t.fileIndex];
        if (!byName.emplace(t.name, static_cast<int>(i)).second)
            throw FormatError(f.path(), FormatError::NoOffset, t.sourceName, "tensor appears twice");
        const auto needed = neededBytes(t);
        if (!needed || *needed != t.bytes)
            throw FormatError(f.path(), t.offset, t.sourceName,
                "holds " + std::to_string(t.bytes) + " bytes, which does not match its shape and type "
                    + std::string(dtypeName(t.dtype)));
        const auto end = checkedAdd(t.offset, t.bytes);
        if (!end || *end > f.size())
            throw FormatError(f.path(), t.offset, t.sourceName,
                "data range [" + std::to_string(t.offset) + ", +" + std::to_string(t.bytes)
                    + ") is past the end of the file (" + std::to_string(f.size()) + " bytes)");
        const TensorPlace place = classifyTensorName(t.name);
        t.role = place.role;
        t.block = place.block;
        if (t.block >= c.architecture.layers)
            throw FormatError(f.path(), FormatError::NoOffset, t.sourceName,
                "belongs to block " + std::to_string(t.block) + " but the model has "
                    + std::to_string(c.architecture.layers) + " blocks");
    }

    // No two tensors share bytes.
    std::vector<const TensorInfo *> sorted;
    for (const auto &t : c.tensors)
        if (t.bytes > 0)
            sorted.push_back(&t);
    std::sort(sorted.begin(), sorted.end(), [](auto *a, auto *b) {
        return a->fileIndex != b->fileIndex ? a->fileIndex < b->fileIndex : a->offset < b->offset;
    });
    for (std::size_t i = 1; i < sorted.size(); ++i) {
        const auto *prev = sorted[i - 1];
        const auto *cur = sorted[i];
        if (prev->fileIndex == cur->fileIndex && prev->offset + prev->bytes > cur->offset)
            throw FormatError(c.files[cur->fileIndex]->path(), cur->offset, cur->sourceName,
                "overlaps the data of tensor " + prev->sourceName);
    }

    // Shapes against the architecture, before anyone allocates from them.
    if (c.architectureComplete) {
        const auto expected = expectedTensors(c.architecture);
        for (auto &t : c.tensors) {
            auto it = expected.find(t.name);
            if (it == expected.end()) {
                if (t.name.find("rotary_emb.inv_freq") == std::string::npos)
                    c.warnings.push_back("tensor " + t.sourceName + " is not part of a " + c.architecture.family
                        + " decoder and is ignored");
                t.role = TensorRole::Other;
                t.block = -1;
                continue;
            }
            if (t.shape != it->second.shape) {
                auto str = [](const std::vector<std::int64_t> &s) {
                    std::string r = "[";
                    for (std::size_t i = 0; i < s.size(); ++i)
                        r += (i ? ", " : "") + std::to_string(s[i]);
                    return r + "]";
                };
                throw FormatError(c.files[t.fileIndex]->path(), FormatError::NoOffset, t.sourceName,
                    "shape " + str(t.shape) + " does not match the configuration, which needs "
                        + str(it->second.shape));
            }
            if (!it->second.required)
                c.warnings.push_back(
                    "tensor " + t.sourceName + " is present although the configuration does not use it");
        }
        for (const auto &[name, e] : expected)
            if (e.required && !byName.count(name))
                throw FormatError(mainFile, FormatError::NoOffset, name, "required tensor is missing");
    }

    for (const auto &w : c.warnings)
        log::logger(log::Subsystem::Model)->warn("{}: {}", c.path, w);
    return std::shared_ptr<const ModelHandle>(new ModelHandle(std::move(c)));
}

std::string ModelHandle::fileName(int index) const
{
    return fs::path(m_c.files.at(index)->path()).filename().string();
}

const TensorInfo *ModelHandle::find(std::string_view name) const
{
    for (const auto &t : m_c.tensors)
        if (t.name == name)
            return &t;
    return nullptr;
}

std::span<const std::byte> ModelHandle::data(const TensorInfo &t) const
{
    return m_c.files.at(t.fileIndex)->bytes().subspan(t.offset, t.bytes);
}

std::vector<int> ModelHandle::blockTensors(int block, TensorRole role) const
{
    std::vector<int> r;
    for (std::size_t i = 0; i < m_c.tensors.size(); ++i)
        if (m_c.tensors[i].block == block && m_c.tensors[i].role == role)
            r.push_back(static_cast<int>(i));
    return r;
}

std::uint64_t ModelHandle::parameterCount() const
{
    std::uint64_t n = 0;
    for (const auto &t : m_c.tensors)
        if (t.role != TensorRole::Other)
            n += t.elementCount();
    return n;
}

std::uint64_t ModelHandle::totalBytes() const
{
    std::uint64_t n = 0;
    for (const auto &t : m_c.tensors)
        n += t.bytes;
    return n;
}

std::shared_ptr<const ModelHandle> ModelHandle::open(const std::string &path, const OpenOptions &options)
{
    std::error_code ec;
    const fs::path p(path);
    if (!fs::exists(p, ec))
        throw UsageError("no such file or folder: " + path);
    log::logger(log::Subsystem::Model)->info("opening {}", path);
    if (fs::is_directory(p, ec)) {
        if (fs::exists(p / "config.json", ec))
            return readHuggingFaceFolder(path);
        throw UsageError(
            "folder " + path + " has no config.json; open a Hugging Face model folder or a checkpoint file");
    }
    // Anything but a regular file (a FIFO, a device) could block or never end when read.
    if (!fs::is_regular_file(p, ec))
        throw UsageError(path + " is neither a regular file nor a folder");
    const std::string name = p.filename().string();
    auto endsWith = [&](std::string_view s) {
        return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
    };
    if (name == "config.json" || name == "model.safetensors.index.json")
        return readHuggingFaceFolder(p.parent_path().string());

    char magic[4] = {};
    {
        std::ifstream in(path, std::ios::binary);
        in.read(magic, 4);
    }
    if (std::string_view(magic, 4) == "GGUF" || endsWith(".gguf"))
        return readGguf(path);
    if (endsWith(".safetensors"))
        return readSafetensorsFile(path);
    if (endsWith(".bin")) {
        if (std::string_view(magic, 2) == "PK")
            throw FormatError(
                path, 0, "", "is a PyTorch pickle archive; Blockscope reads safetensors, GGUF and llama2.c files");
        return readLlama2c(path, options.tokenizerPath);
    }
    throw UsageError(
        "cannot tell the format of " + path + ": expected a Hugging Face folder, .safetensors, .gguf or llama2.c .bin");
}

} // namespace blockscope
