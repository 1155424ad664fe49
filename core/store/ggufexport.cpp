#include "ggufexport.h"

#include "common/atomicfile.h"

#include "common/formaterror.h"
#include "exportplan.h"
#include "model/checkpointexport.h"
#include "model/checkpointreaders.h"
#include "model/ggmlquants.h"
#include "model/ggufmetadata.h"
#include "model/modelhandle.h"
#include "model/tensornames.h"
#include "model/tensorvalues.h"
#include "text/sentencepiecetokenizer.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace blockscope {

namespace fs = std::filesystem;

namespace {

std::optional<DType> ggufTarget(const std::string &name)
{
    if (name.empty())
        return std::nullopt;
    static const std::pair<const char *, DType> names[] = {{"F32", DType::F32}, {"F16", DType::F16},
        {"BF16", DType::BF16}, {"Q8_0", DType::Q8_0}, {"Q4_0", DType::Q4_0}, {"Q4_1", DType::Q4_1}};
    for (const auto &[n, t] : names)
        if (name == n)
            return t;
    throw UsageError("GGUF type \"" + name + "\" is not F32, F16, BF16, Q8_0, Q4_0 or Q4_1");
}

// llama.cpp's llama_ftype of a file whose matrices are all `t`.
std::optional<std::uint32_t> fileType(DType t)
{
    switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q4_1: return 3;
    case DType::Q8_0: return 7;
    case DType::BF16: return 32;
    default: return std::nullopt;
    }
}

GgufValue u32(std::uint64_t v)
{
    GgufValue g;
    g.type = GgufType::U32;
    g.u = v;
    return g;
}
GgufValue f32(double v)
{
    GgufValue g;
    g.type = GgufType::F32;
    g.f = v;
    return g;
}
GgufValue str(std::string v)
{
    GgufValue g;
    g.type = GgufType::String;
    g.s = std::move(v);
    return g;
}

// Little-endian GGUF writing into a buffered stream; failures are checked once at the end.
class GgufOut
{
public:
    explicit GgufOut(std::ostream &out)
        : m_out(out)
    {
    }
    template<typename T>
    void pod(T v)
    {
        m_out.write(reinterpret_cast<const char *>(&v), sizeof v);
    }
    void string(const std::string &s)
    {
        pod<std::uint64_t>(s.size());
        m_out.write(s.data(), static_cast<std::streamsize>(s.size()));
    }
    void value(const GgufValue &v) { value(v.type, v); }
    void bytes(const void *data, std::size_t n)
    {
        m_out.write(static_cast<const char *>(data), static_cast<std::streamsize>(n));
    }
    void pad(std::uint64_t alignment)
    {
        const auto at = static_cast<std::uint64_t>(m_out.tellp());
        static const char zeros[64] = {};
        for (std::uint64_t n = (alignment - at % alignment) % alignment; n > 0;) {
            const auto k = std::min<std::uint64_t>(n, sizeof zeros);
            m_out.write(zeros, static_cast<std::streamsize>(k));
            n -= k;
        }
    }

private:
    void value(GgufType type, const GgufValue &v)
    {
        switch (type) {
        case GgufType::U8: pod<std::uint8_t>(static_cast<std::uint8_t>(v.u)); break;
        case GgufType::I8: pod<std::int8_t>(static_cast<std::int8_t>(v.i)); break;
        case GgufType::U16: pod<std::uint16_t>(static_cast<std::uint16_t>(v.u)); break;
        case GgufType::I16: pod<std::int16_t>(static_cast<std::int16_t>(v.i)); break;
        case GgufType::U32: pod<std::uint32_t>(static_cast<std::uint32_t>(v.u)); break;
        case GgufType::I32: pod<std::int32_t>(static_cast<std::int32_t>(v.i)); break;
        case GgufType::F32: pod<float>(static_cast<float>(v.f)); break;
        case GgufType::Bool: pod<std::uint8_t>(v.u ? 1 : 0); break;
        case GgufType::String: string(v.s); break;
        case GgufType::U64: pod<std::uint64_t>(v.u); break;
        case GgufType::I64: pod<std::int64_t>(v.i); break;
        case GgufType::F64: pod<double>(v.f); break;
        case GgufType::Array:
            pod<std::uint32_t>(static_cast<std::uint32_t>(v.arrayType));
            pod<std::uint64_t>(v.array.size());
            for (const GgufValue &e : v.array)
                value(v.arrayType, e);
            break;
        }
    }
    std::ostream &m_out;
};

// Architecture and tokenizer keys for a source that is not a GGUF: what convert_hf_to_gguf.py
// writes for a Llama or Qwen2 model with a SentencePiece vocabulary.
GgufMetadata metadataFor(const ModelHandle &model, const std::string &arch, std::vector<std::string> &notes)
{
    const Architecture &a = model.architecture();
    GgufMetadata m;
    m.values["general.architecture"] = str(arch);
    m.values["general.name"] = str(fs::path(model.path()).filename().string());
    m.values[arch + ".context_length"] = u32(static_cast<std::uint64_t>(a.context));
    m.values[arch + ".embedding_length"] = u32(static_cast<std::uint64_t>(a.hidden));
    m.values[arch + ".feed_forward_length"] = u32(static_cast<std::uint64_t>(a.intermediate));
    m.values[arch + ".attention.head_count"] = u32(static_cast<std::uint64_t>(a.heads));
    m.values[arch + ".attention.head_count_kv"] = u32(static_cast<std::uint64_t>(a.kvHeads));
    m.values[arch + ".attention.layer_norm_rms_epsilon"] = f32(a.rmsNormEps);
    m.values[arch + ".rope.freq_base"] = f32(a.ropeTheta);
    m.values[arch + ".rope.dimension_count"] = u32(static_cast<std::uint64_t>(a.headDim));
    m.values[arch + ".vocab_size"] = u32(static_cast<std::uint64_t>(a.vocab));
    if (a.ropeScaling.type == RopeScaling::Type::Linear) {
        m.values[arch + ".rope.scaling.type"] = str("linear");
        m.values[arch + ".rope.scaling.factor"] = f32(a.ropeScaling.factor);
    } else if (a.ropeScaling.type != RopeScaling::Type::None) {
        throw UsageError(
            model.path() + ": llama3 RoPE scaling is not written to GGUF here; export a Hugging Face folder");
    }
    const fs::path spm = fs::path(model.path()) / "tokenizer.model";
    if (!fs::is_regular_file(spm))
        throw UsageError(model.path()
            + ": GGUF export needs the model's tokenizer in GGUF form; only a GGUF source or "
              "a SentencePiece tokenizer.model is converted here (export a Hugging Face folder)");
    const auto sp = SentencePieceTokenizer::load(spm.string());
    GgufValue tokens, scores, types;
    tokens.type = scores.type = types.type = GgufType::Array;
    tokens.arrayType = GgufType::String;
    scores.arrayType = GgufType::F32;
    types.arrayType = GgufType::I32;
    using Kind = SentencePieceTokenizer::PieceKind;
    for (std::int32_t i = 0; i < static_cast<std::int32_t>(sp->vocabSize()); ++i) {
        tokens.array.push_back(str(sp->piece(i)));
        scores.array.push_back(f32(sp->score(i)));
        GgufValue t;
        t.type = GgufType::I32;
        switch (sp->kind(i)) {
        case Kind::Normal: t.i = 1; break;
        case Kind::Unknown: t.i = 2; break;
        case Kind::Control: t.i = 3; break;
        case Kind::Unused: t.i = 5; break;
        case Kind::Byte: t.i = 6; break;
        }
        types.array.push_back(t);
    }
    m.values["tokenizer.ggml.model"] = str("llama");
    m.values["tokenizer.ggml.tokens"] = tokens;
    m.values["tokenizer.ggml.scores"] = scores;
    m.values["tokenizer.ggml.token_type"] = types;
    if (const auto id = sp->bosId())
        m.values["tokenizer.ggml.bos_token_id"] = u32(static_cast<std::uint64_t>(*id));
    if (const auto id = sp->eosId())
        m.values["tokenizer.ggml.eos_token_id"] = u32(static_cast<std::uint64_t>(*id));
    if (const auto id = sp->unkId())
        m.values["tokenizer.ggml.unknown_token_id"] = u32(static_cast<std::uint64_t>(*id));
    GgufValue addBos;
    addBos.type = GgufType::Bool;
    addBos.u = sp->addBos() ? 1 : 0;
    m.values["tokenizer.ggml.add_bos_token"] = addBos;
    notes.push_back("tokenizer metadata built from " + spm.string());
    return m;
}

struct TensorOut
{
    const TensorInfo *source = nullptr;
    std::string name;
    DType type = DType::F32;
    bool zero = false;
    bool permute = false; // rotate_half rows to interleaved
    std::int64_t heads = 0;
    std::uint64_t bytes = 0;
    std::uint64_t offset = 0;
};

std::vector<std::byte> tensorBytes(const ModelHandle &model, const TensorOut &t, std::int64_t headDim)
{
    const TensorInfo &s = *t.source;
    if (t.zero)
        return std::vector<std::byte>(t.bytes); // all-zero bits are 0.0 in every ggml type
    const auto raw = model.data(s);
    if (s.dtype == t.type && !t.permute)
        return std::vector<std::byte>(raw.begin(), raw.end());
    std::vector<float> values = readAllAsFloat32(s.dtype, raw, s.elementCount());
    if (t.permute) {
        std::vector<float> p(values.size());
        const std::size_t rowBytes = values.size() * 4 / static_cast<std::size_t>(t.heads * headDim);
        permuteHalfToInterleaved(reinterpret_cast<const std::byte *>(values.data()),
            reinterpret_cast<std::byte *>(p.data()), t.heads, headDim, rowBytes);
        values.swap(p);
    }
    std::vector<std::byte> out(t.bytes);
    if (t.type == DType::F32) {
        std::memcpy(out.data(), values.data(), out.size());
    } else if (t.type == DType::F16 || t.type == DType::BF16) {
        auto *dst = reinterpret_cast<std::uint16_t *>(out.data());
        for (std::size_t i = 0; i < values.size(); ++i)
            dst[i] = t.type == DType::F16 ? floatToHalf(values[i]) : floatToBfloat16(values[i]);
    } else {
        out = quantiseTensor(t.name, t.type, s.shape, values);
    }
    return out;
}

} // namespace

GgufExportResult exportGguf(const std::shared_ptr<const ModelHandle> &model, const UnitMask &mask,
    const std::string &file, const GgufExportOptions &options)
{
    const Architecture &a = model->architecture();
    if (!model->architectureComplete())
        throw UsageError(model->path() + ": the number of attention heads is unknown; export the folder it came from");
    if (mask.layers() != a.layers)
        throw UsageError("the configuration has " + std::to_string(mask.layers()) + " blocks, " + model->path()
            + " has " + std::to_string(a.layers));
    const std::optional<DType> target = ggufTarget(options.type);
    if (file.empty())
        throw UsageError("no output file given");
    const fs::path dest = fs::absolute(fs::path(file)).lexically_normal();
    if (fs::is_directory(dest))
        throw UsageError(dest.string() + " is a folder; give the .gguf file to write");
    if (fs::exists(dest) && !options.force)
        throw UsageError(dest.string() + " exists; give --force to replace it");
    if (fs::exists(dest.parent_path()) && !fs::is_directory(dest.parent_path()))
        throw UsageError("cannot write " + dest.string() + ": " + dest.parent_path().string() + " is not a folder");

    GgufExportResult r;
    r.file = dest.string();
    const exportplan::Renumbering layers(mask);
    r.blockMap = layers.blockMap;
    r.keptBlocks = static_cast<int>(r.blockMap.size());

    const bool fromGguf = model->format() == CheckpointFormat::Gguf;
    GgufMetadata meta;
    std::string arch = a.family == "qwen2" ? "qwen2" : "llama";
    if (fromGguf) {
        meta = readGgufMetadata(model->path());
        arch = meta.find("general.architecture")->s;
        for (auto it = meta.values.begin(); it != meta.values.end();)
            it = it->first.rfind("quantize.", 0) == 0 ? meta.values.erase(it) : std::next(it);
    } else {
        meta = metadataFor(*model, arch, r.notes);
    }
    // llama.cpp's "llama" keeps Meta's interleaved q/k rows; "qwen2" uses rotate_half (NEOX).
    const RopeLayout wanted = arch == "llama" ? RopeLayout::Interleaved : RopeLayout::RotateHalf;
    if (a.ropeLayout != wanted && wanted == RopeLayout::RotateHalf)
        throw UsageError(model->path() + ": interleaved q/k rows cannot be written for GGUF architecture " + arch);

    std::vector<TensorOut> plan;
    bool ragged = false;
    for (const TensorInfo &t : model->tensors()) {
        if (t.role == TensorRole::Other) {
            // A GGUF's own extra tensors (rope_freqs for llama3 scaling, say) go along unchanged.
            const GgmlTypeInfo *info = fromGguf && t.block < 0 ? ggmlTypeFor(t.dtype) : nullptr;
            if (info) {
                TensorOut o;
                o.source = &t;
                o.name = t.sourceName;
                o.type = t.dtype;
                o.bytes = t.elementCount() / info->blockElements * info->blockBytes;
                plan.push_back(std::move(o));
            }
            continue;
        }
        if (!t.loadable && !fromGguf)
            throw UsageError(model->path() + ": tensor " + t.sourceName + " cannot be read");
        const auto hfName = layers.rename(t);
        if (!hfName)
            continue; // the whole block is removed
        TensorOut o;
        o.source = &t;
        o.zero = exportplan::zeroedProjection(t, mask);
        const auto ggufName = hfToGgufName(*hfName);
        if (!ggufName)
            throw std::logic_error("no GGUF name for " + *hfName);
        o.name = *ggufName;
        if (o.zero)
            r.zeroed.push_back(o.name);
        o.heads = exportplan::ropeRowHeads(t.name, a.heads, a.kvHeads);
        o.permute = a.ropeLayout != wanted && o.heads > 0;
        // Vectors (norms, biases) stay F32, as llama.cpp's converter keeps them.
        const bool vector = t.shape.size() == 1;
        const GgmlTypeInfo *sourceType = ggmlTypeFor(t.dtype);
        if (vector)
            o.type = DType::F32;
        else if (target)
            o.type = *target;
        else
            o.type = sourceType && t.loadable ? t.dtype : DType::F32;
        if (!t.loadable && (o.type != t.dtype || o.permute))
            throw UsageError(model->path() + ": tensor " + t.sourceName + " (" + t.storageType
                + ") can only be copied as it is; export without a type");
        if (dtypeIsBlockQuantised(o.type) && o.type != t.dtype) {
            const auto block = dtypeBlock(o.type);
            if (block && t.shape.back() % static_cast<std::int64_t>(block->elements) != 0) {
                o.type = DType::F32; // rows not a whole number of blocks: kept exact
                ragged = true;
            }
        }
        const GgmlTypeInfo *info = ggmlTypeFor(o.type);
        o.bytes = t.elementCount() / info->blockElements * info->blockBytes;
        plan.push_back(std::move(o));
    }
    if (ragged)
        r.notes.push_back(
            "matrices whose rows are not a whole number of " + options.type + " blocks are written as F32");
    if (!r.zeroed.empty())
        r.notes.push_back(std::to_string(r.zeroed.size())
            + " output projections of removed sublayers in kept blocks are zero, so they add nothing");

    meta.values[arch + ".block_count"] = u32(static_cast<std::uint64_t>(r.keptBlocks));
    if (target && fileType(*target))
        meta.values["general.file_type"] = u32(*fileType(*target));
    nlohmann::ordered_json record = options.recordJson.empty() ? nlohmann::ordered_json::object()
                                                               : nlohmann::ordered_json::parse(options.recordJson);
    nlohmann::ordered_json removedAttn = nlohmann::ordered_json::array(), removedMlp = removedAttn,
                           removedBlocks = removedAttn;
    for (int l = 0; l < a.layers; ++l) {
        const auto i = static_cast<std::size_t>(l);
        if (mask.skipAttn[i])
            removedAttn.push_back(l);
        if (mask.skipMlp[i])
            removedMlp.push_back(l);
        if (mask.blockSkipped(l))
            removedBlocks.push_back(l);
    }
    record["blocks"] = a.layers;
    record["configuration"] = {{"mask", mask.describe()}, {"removed_blocks", removedBlocks},
        {"removed_attention", removedAttn}, {"removed_mlp", removedMlp}};
    record["kept_blocks"] = r.blockMap;
    record["zeroed"] = r.zeroed;
    meta.values["blockscope.export"] = str(record.dump());
    std::uint64_t alignment = 32;
    if (const auto *al = meta.find("general.alignment"))
        alignment = al->u;

    std::uint64_t offset = 0;
    for (TensorOut &o : plan) {
        offset = (offset + alignment - 1) / alignment * alignment;
        o.offset = offset;
        offset += o.bytes;
    }

    fs::create_directories(dest.parent_path());
    // Into a temporary beside the destination, renamed over it once complete (common/atomicfile.h).
    writeFileAtomically(dest.string(), [&](std::ostream &out) {
        GgufOut g(out);
        g.bytes("GGUF", 4);
        g.pod<std::uint32_t>(3);
        g.pod<std::uint64_t>(plan.size());
        g.pod<std::uint64_t>(meta.values.size());
        for (const auto &[key, value] : meta.values) {
            g.string(key);
            g.pod<std::uint32_t>(static_cast<std::uint32_t>(value.type));
            g.value(value);
        }
        for (const TensorOut &o : plan) {
            g.string(o.name);
            g.pod<std::uint32_t>(static_cast<std::uint32_t>(o.source->shape.size()));
            for (auto d = o.source->shape.rbegin(); d != o.source->shape.rend(); ++d) // ggml: innermost first
                g.pod<std::uint64_t>(static_cast<std::uint64_t>(*d));
            g.pod<std::uint32_t>(ggmlTypeFor(o.type)->id);
            g.pod<std::uint64_t>(o.offset);
        }
        g.pad(alignment);
        const auto dataStart = static_cast<std::uint64_t>(out.tellp());
        for (const TensorOut &o : plan) {
            g.pad(alignment);
            if (static_cast<std::uint64_t>(out.tellp()) != dataStart + o.offset)
                throw std::logic_error("GGUF tensor offset mismatch for " + o.name);
            const std::vector<std::byte> bytes = tensorBytes(*model, o, a.headDim);
            g.bytes(bytes.data(), bytes.size());
            if (!out)
                break;
        }
        r.bytes = static_cast<std::uint64_t>(out.tellp());
    });
    return r;
}

} // namespace blockscope
