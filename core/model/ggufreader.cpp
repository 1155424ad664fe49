// GGUF v2/v3 metadata reader (formats.md §4). Reads the header, the key/value pairs and the
// tensor index; tensor data stays in the memory map.
#include "checkpointreaders.h"

#include "common/bytecursor.h"
#include "common/checkedmath.h"
#include "common/formaterror.h"
#include "common/limits.h"
#include "common/mappedfile.h"
#include "common/utf8.h"
#include "ggmlquants.h"
#include "ggufmetadata.h"
#include "modelhandle.h"
#include "tensornames.h"

#include <set>

namespace blockscope {

namespace {

class GgufParser
{
public:
    explicit GgufParser(const MappedFile &file)
        : m_cur(file.bytes(), file.path())
        , m_path(file.path())
    {
    }

    std::string readString(std::string_view field)
    {
        const auto len = m_cur.read<std::uint64_t>(field);
        if (len > defaultCaps().maxStringBytes)
            m_cur.fail(field, "string length " + std::to_string(len) + " exceeds the 1 MiB cap");
        return std::string(m_cur.readBytes(len, field));
    }

    GgufValue readValue(std::uint32_t type, std::string_view field, int depth)
    {
        GgufValue v;
        v.type = static_cast<GgufType>(type);
        switch (type) {
        case 0: v.u = m_cur.read<std::uint8_t>(field); break;
        case 1: v.i = m_cur.read<std::int8_t>(field); break;
        case 2: v.u = m_cur.read<std::uint16_t>(field); break;
        case 3: v.i = m_cur.read<std::int16_t>(field); break;
        case 4: v.u = m_cur.read<std::uint32_t>(field); break;
        case 5: v.i = m_cur.read<std::int32_t>(field); break;
        case 6: v.f = m_cur.read<float>(field); break;
        case 7: {
            const auto b = m_cur.read<std::uint8_t>(field);
            if (b > 1)
                m_cur.fail(field, "bool value " + std::to_string(b) + " is neither 0 nor 1");
            v.u = b;
            break;
        }
        case 8: v.s = readString(field); break;
        case 9: {
            if (depth >= 2)
                m_cur.fail(field, "arrays nested deeper than 2 levels");
            const auto elemType = m_cur.read<std::uint32_t>(field);
            const auto count = m_cur.read<std::uint64_t>(field);
            const std::uint64_t minSize = minValueSize(elemType, field);
            const auto total = checkedMul(count, minSize);
            if (!total || *total > m_cur.remaining())
                m_cur.fail(field, "array of " + std::to_string(count) + " elements cannot fit in the file");
            // A one-byte element becomes a GgufValue of about a hundred bytes, so the file size alone
            // does not bound memory: cap each array at the vocabulary cap (the largest legitimate
            // arrays are token lists) and all arrays together at a few times that.
            const auto cap = static_cast<std::uint64_t>(defaultCaps().maxVocab);
            if (count > cap)
                m_cur.fail(
                    field, "array of " + std::to_string(count) + " elements exceeds the cap of " + std::to_string(cap));
            m_arrayElements += count;
            if (m_arrayElements > 4 * cap)
                m_cur.fail(
                    field, "the metadata arrays hold more than " + std::to_string(4 * cap) + " elements in total");
            v.arrayType = static_cast<GgufType>(elemType);
            v.array.reserve(count);
            for (std::uint64_t k = 0; k < count; ++k)
                v.array.push_back(readValue(elemType, field, depth + 1));
            break;
        }
        case 10: v.u = m_cur.read<std::uint64_t>(field); break;
        case 11: v.i = m_cur.read<std::int64_t>(field); break;
        case 12: v.f = m_cur.read<double>(field); break;
        default: m_cur.fail(field, "unknown metadata value type " + std::to_string(type));
        }
        return v;
    }

    std::uint64_t minValueSize(std::uint32_t type, std::string_view field)
    {
        switch (type) {
        case 0:
        case 1:
        case 7: return 1;
        case 2:
        case 3: return 2;
        case 4:
        case 5:
        case 6: return 4;
        case 8:
        case 10:
        case 11:
        case 12: return 8;
        case 9: return 12;
        default: m_cur.fail(field, "unknown array element type " + std::to_string(type));
        }
    }

    // The header and the key/value pairs only, with the same checks as parse(); for readers of
    // the metadata itself (the embedded tokenizer).
    GgufMetadata parseMetadata()
    {
        std::uint64_t nTensors = 0;
        return readHeaderAndMetadata(nTensors);
    }

    // Magic, version, counts and every key/value pair; leaves the cursor at the tensor infos.
    GgufMetadata readHeaderAndMetadata(std::uint64_t &nTensors)
    {
        const auto magic = m_cur.readBytes(4, "magic");
        if (magic != "GGUF")
            throw FormatError(m_path, 0, "magic", "not a GGUF file (magic is not \"GGUF\")");
        const auto version = m_cur.read<std::uint32_t>("version");
        if (version == 0x03000000 || version == 0x02000000)
            throw FormatError(m_path, 4, "version", "big-endian GGUF files are not supported");
        if (version != 2 && version != 3)
            throw FormatError(
                m_path, 4, "version", "GGUF version " + std::to_string(version) + " is not supported (2 and 3 are)");
        nTensors = m_cur.read<std::uint64_t>("tensor count");
        const auto nKv = m_cur.read<std::uint64_t>("metadata count");
        // Each key/value pair needs at least 13 bytes and each tensor entry at least 32.
        if (nKv > m_cur.remaining() / 13)
            throw FormatError(m_path, 16, "metadata count", std::to_string(nKv) + " pairs cannot fit in the file");
        if (nTensors > m_cur.remaining() / 32 || nTensors > 1000000)
            throw FormatError(m_path, 8, "tensor count", std::to_string(nTensors) + " tensors cannot fit in the file");

        GgufMetadata meta;
        for (std::uint64_t k = 0; k < nKv; ++k) {
            const auto at = m_cur.offset();
            std::string key = readString("metadata key");
            if (!isValidUtf8(key))
                throw FormatError(m_path, at, "metadata key", "is not valid UTF-8");
            const auto type = m_cur.read<std::uint32_t>(key);
            GgufValue value = readValue(type, key, 0);
            if (!meta.values.emplace(key, std::move(value)).second)
                throw FormatError(m_path, at, key, "metadata key appears twice");
        }
        return meta;
    }

    ModelHandle::Contents parse(std::shared_ptr<const MappedFile> file)
    {
        std::uint64_t nTensors = 0;
        GgufMetadata meta = readHeaderAndMetadata(nTensors);

        std::uint64_t alignment = 32;
        if (const auto *a = meta.find("general.alignment")) {
            if (a->type != GgufType::U32)
                throw FormatError(m_path, FormatError::NoOffset, "general.alignment", "must be a uint32");
            alignment = a->u;
            if (alignment == 0 || (alignment & (alignment - 1)) != 0)
                throw FormatError(m_path, FormatError::NoOffset, "general.alignment",
                    std::to_string(alignment) + " is not a power of two");
        }

        ModelHandle::Contents c;
        c.path = m_path;
        c.format = CheckpointFormat::Gguf;
        c.architecture = architectureFrom(meta);
        c.files.push_back(file);

        struct RawTensor
        {
            TensorInfo info;
            std::uint64_t relOffset;
            std::uint64_t at;
        };
        std::vector<RawTensor> raw;
        std::set<std::string> names;
        for (std::uint64_t k = 0; k < nTensors; ++k) {
            const auto at = m_cur.offset();
            std::string name = readString("tensor name");
            if (!isValidUtf8(name))
                throw FormatError(m_path, at, "tensor name", "is not valid UTF-8");
            if (!names.insert(name).second)
                throw FormatError(m_path, at, name, "tensor name appears twice");
            const auto nDims = m_cur.read<std::uint32_t>(name);
            if (nDims == 0 || nDims > static_cast<std::uint32_t>(defaultCaps().maxGgufRank))
                throw FormatError(
                    m_path, m_cur.offset() - 4, name, "has " + std::to_string(nDims) + " dimensions (1 to 4 allowed)");
            std::vector<std::uint64_t> ne(nDims);
            std::uint64_t count = 1;
            for (auto &d : ne) {
                d = m_cur.read<std::uint64_t>(name);
                if (d == 0 || d > (std::uint64_t(1) << 62))
                    throw FormatError(
                        m_path, m_cur.offset() - 8, name, "dimension " + std::to_string(d) + " is out of range");
                const auto p = checkedMul(count, d);
                if (!p || *p > (std::uint64_t(1) << 62))
                    throw FormatError(m_path, m_cur.offset() - 8, name, "element count overflows");
                count = *p;
            }
            const auto typeId = m_cur.read<std::uint32_t>(name);
            const GgmlTypeInfo *type = ggmlTypeById(typeId);
            if (!type)
                throw FormatError(m_path, m_cur.offset() - 4, name, "unsupported ggml type " + std::to_string(typeId));
            if (ne[0] % type->blockElements != 0)
                throw FormatError(m_path, m_cur.offset() - 4, name,
                    std::string(type->name) + " needs the innermost dimension (" + std::to_string(ne[0])
                        + ") to be a multiple of its block size " + std::to_string(type->blockElements));
            const auto relOffset = m_cur.read<std::uint64_t>(name);
            if (relOffset % alignment != 0)
                throw FormatError(m_path, m_cur.offset() - 8, name,
                    "data offset " + std::to_string(relOffset) + " is not a multiple of the alignment "
                        + std::to_string(alignment));
            RawTensor r;
            r.info.sourceName = name;
            r.info.name = ggufToHfName(name).value_or(name);
            for (auto it = ne.rbegin(); it != ne.rend(); ++it)
                r.info.shape.push_back(static_cast<std::int64_t>(*it));
            r.info.dtype = type->dtype;
            r.info.storageType = type->name;
            // count may be up to 2^62, so the byte size can overflow where the element count did not.
            const auto bytes = checkedMul(count / type->blockElements, type->blockBytes);
            if (!bytes)
                throw FormatError(m_path, at, name,
                    "byte size of " + std::to_string(count) + " " + type->name + " elements overflows 64 bits");
            r.info.bytes = *bytes;
            r.info.loadable = type->dtype != DType::Unsupported;
            r.relOffset = relOffset;
            r.at = at;
            raw.push_back(std::move(r));
        }

        const std::uint64_t infoEnd = m_cur.offset();
        const std::uint64_t dataStart = (infoEnd + alignment - 1) / alignment * alignment;
        for (auto &r : raw) {
            const auto abs = checkedAdd(dataStart, r.relOffset);
            const auto end = abs ? checkedAdd(*abs, r.info.bytes) : std::nullopt;
            if (!end || *end > file->size())
                throw FormatError(m_path, r.at, r.info.sourceName,
                    "data range (offset " + std::to_string(r.relOffset) + ", " + std::to_string(r.info.bytes)
                        + " bytes) is past the end of the file");
            r.info.offset = *abs;
            c.tensors.push_back(std::move(r.info));
        }

        if (!c.tensors.empty()) {
            bool hasOutput = false;
            for (const auto &t : c.tensors)
                hasOutput |= t.name == "lm_head.weight";
            c.architecture.tiedEmbeddings = !hasOutput;
        }
        addTokenizer(meta, c);
        return c;
    }

private:
    std::int64_t requiredInt(const GgufMetadata &meta, const std::string &key)
    {
        const auto *v = meta.find(key);
        if (!v)
            throw FormatError(m_path, FormatError::NoOffset, key, "required key is missing");
        auto i = v->asInt();
        if (!i)
            throw FormatError(m_path, FormatError::NoOffset, key, "must be an integer");
        return *i;
    }

    // Range-checked here, where the key is known, so the error names the key the user can look
    // up rather than the architecture field ModelHandle would report.
    std::int64_t requiredInt(const GgufMetadata &meta, const std::string &key, std::int64_t cap)
    {
        const auto i = requiredInt(meta, key);
        if (i <= 0 || i > cap)
            throw FormatError(m_path, FormatError::NoOffset, key,
                "value " + std::to_string(i) + " is outside 1.." + std::to_string(cap));
        return i;
    }

    Architecture architectureFrom(const GgufMetadata &meta)
    {
        const auto *archValue = meta.find("general.architecture");
        if (!archValue)
            throw FormatError(m_path, FormatError::NoOffset, "general.architecture", "required key is missing");
        if (archValue->type != GgufType::String)
            throw FormatError(m_path, FormatError::NoOffset, "general.architecture", "must be a string");
        const std::string arch = archValue->s;
        if (arch != "llama" && arch != "qwen2")
            throw FormatError(m_path, FormatError::NoOffset, "general.architecture",
                "unknown architecture \"" + arch + "\" (llama and qwen2 are supported)");
        Architecture a;
        a.family = arch;
        const SanityCaps &caps = defaultCaps();
        a.context = requiredInt(meta, arch + ".context_length", caps.maxContext);
        a.hidden = requiredInt(meta, arch + ".embedding_length", caps.maxHidden);
        a.layers = requiredInt(meta, arch + ".block_count", caps.maxLayers);
        a.intermediate = requiredInt(meta, arch + ".feed_forward_length", caps.maxFfn);
        a.heads = requiredInt(meta, arch + ".attention.head_count", caps.maxHeads);
        a.kvHeads = meta.find(arch + ".attention.head_count_kv")
            ? requiredInt(meta, arch + ".attention.head_count_kv", caps.maxHeads)
            : a.heads;
        if (a.heads % a.kvHeads != 0)
            throw FormatError(m_path, FormatError::NoOffset, arch + ".attention.head_count_kv",
                std::to_string(a.kvHeads) + " does not divide the head count " + std::to_string(a.heads));
        if (a.hidden % a.heads != 0)
            throw FormatError(m_path, FormatError::NoOffset, arch + ".embedding_length",
                std::to_string(a.hidden) + " is not divisible by the head count " + std::to_string(a.heads));
        a.headDim = a.hidden / a.heads;
        if (meta.find(arch + ".rope.dimension_count")) {
            const auto rd = requiredInt(meta, arch + ".rope.dimension_count");
            if (rd != a.headDim)
                throw FormatError(m_path, FormatError::NoOffset, arch + ".rope.dimension_count",
                    "partial rotary embeddings (" + std::to_string(rd) + " of " + std::to_string(a.headDim)
                        + " dimensions) are not supported");
        }
        if (const auto *eps = meta.find(arch + ".attention.layer_norm_rms_epsilon")) {
            auto f = eps->asFloat();
            if (!f || !(*f > 0) || *f > 1)
                throw FormatError(m_path, FormatError::NoOffset, arch + ".attention.layer_norm_rms_epsilon",
                    "must be a small positive number");
            a.rmsNormEps = *f;
        }
        if (const auto *theta = meta.find(arch + ".rope.freq_base")) {
            auto f = theta->asFloat();
            if (!f || !(*f > 1))
                throw FormatError(m_path, FormatError::NoOffset, arch + ".rope.freq_base", "must be a number above 1");
            a.ropeTheta = *f;
        }
        if (meta.find(arch + ".vocab_size"))
            a.vocab = requiredInt(meta, arch + ".vocab_size", caps.maxVocab);
        else if (const auto *tokens = meta.find("tokenizer.ggml.tokens"))
            a.vocab = static_cast<std::int64_t>(tokens->array.size());
        a.ropeLayout = arch == "llama" ? RopeLayout::Interleaved : RopeLayout::RotateHalf;
        a.qkvBias = arch == "qwen2";
        return a;
    }

    void addTokenizer(const GgufMetadata &meta, ModelHandle::Contents &c)
    {
        const auto *tokens = meta.find("tokenizer.ggml.tokens");
        if (!tokens)
            return;
        if (tokens->type != GgufType::Array || tokens->arrayType != GgufType::String)
            throw FormatError(m_path, FormatError::NoOffset, "tokenizer.ggml.tokens", "must be an array of strings");
        const auto n = tokens->array.size();
        struct Parallel
        {
            const char *key;
            GgufType element;
            const char *what;
        };
        for (const Parallel &p : {Parallel{"tokenizer.ggml.scores", GgufType::F32, "an array of float32"},
                 Parallel{"tokenizer.ggml.token_type", GgufType::I32, "an array of int32"}}) {
            const auto *arr = meta.find(p.key);
            if (!arr)
                continue;
            if (arr->type != GgufType::Array || arr->arrayType != p.element)
                throw FormatError(m_path, FormatError::NoOffset, p.key, std::string("must be ") + p.what);
            if (arr->array.size() != n)
                throw FormatError(m_path, FormatError::NoOffset, p.key,
                    "has " + std::to_string(arr->array.size()) + " entries but there are " + std::to_string(n)
                        + " tokens");
        }
        for (const char *key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                 "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id"}) {
            const auto *v = meta.find(key);
            if (!v)
                continue;
            auto id = v->asInt();
            if (!id)
                throw FormatError(m_path, FormatError::NoOffset, key, "must be an integer");
            if (*id == 0xFFFFFFFF)
                continue;
            if (*id < 0 || static_cast<std::uint64_t>(*id) >= n)
                throw FormatError(m_path, FormatError::NoOffset, key,
                    "token id " + std::to_string(*id) + " is outside the vocabulary of " + std::to_string(n));
            if (std::string_view(key).find("bos") != std::string_view::npos)
                c.architecture.bosTokenIds = {*id};
            if (std::string_view(key).find("eos") != std::string_view::npos)
                c.architecture.eosTokenIds = {*id};
        }
        std::string model = "llama";
        if (const auto *m = meta.find("tokenizer.ggml.model")) {
            if (m->type != GgufType::String)
                throw FormatError(m_path, FormatError::NoOffset, "tokenizer.ggml.model", "must be a string");
            model = m->s;
        }
        c.tokenizer = TokenizerSummary{"gguf-" + model, m_path, static_cast<std::int64_t>(n)};
        if (c.architecture.vocab != static_cast<std::int64_t>(n))
            c.warnings.push_back("the tokenizer has " + std::to_string(n) + " tokens but the model's vocabulary is "
                + std::to_string(c.architecture.vocab));
    }

    ByteCursor m_cur;
    std::string m_path;
    std::uint64_t m_arrayElements = 0;
};

} // namespace

GgufMetadata readGgufMetadata(const std::string &path)
{
    auto file = MappedFile::open(path);
    GgufParser parser(*file);
    return parser.parseMetadata();
}

std::shared_ptr<const ModelHandle> readGguf(const std::string &path)
{
    auto file = MappedFile::open(path);
    GgufParser parser(*file);
    return ModelHandle::fromContents(parser.parse(file));
}

} // namespace blockscope
