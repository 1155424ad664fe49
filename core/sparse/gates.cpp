#include "gates.h"

#include "common/atomicfile.h"

#include "common/contenthash.h"
#include "common/formaterror.h"
#include "common/mappedfile.h"
#include "gateimpl.h"
#include "model/checkpointreaders.h"
#include "model/decoder.h"
#include "model/rope.h"
#include "model/safetensorswriter.h"
#include "model/tensorinfo.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace blockscope::sparse {

using nlohmann::json;

namespace {

std::string layoutName(RopeLayout l)
{
    return l == RopeLayout::Interleaved ? "interleaved" : "rotate_half";
}

std::string scalingJson(const RopeScaling &s)
{
    if (s.type == RopeScaling::Type::None)
        return {};
    json j;
    j["rope_type"] = s.type == RopeScaling::Type::Linear ? "linear" : "llama3";
    j["factor"] = s.factor;
    if (s.type == RopeScaling::Type::Llama3) {
        j["low_freq_factor"] = s.lowFreqFactor;
        j["high_freq_factor"] = s.highFreqFactor;
        j["original_max_position_embeddings"] = s.originalContext;
    }
    return j.dump();
}

std::string kName(std::int64_t layer)
{
    return "model.layers." + std::to_string(layer) + ".self_attn.attn_gate.mask_linear_k.weight";
}
std::string qName(std::int64_t layer)
{
    return "model.layers." + std::to_string(layer) + ".self_attn.attn_gate.mask_linear_q.weight";
}

} // namespace

std::string modelFingerprint(const Decoder &decoder)
{
    const Architecture &a = decoder.architecture();
    // Canonical config: the fields that decide what a gate sees. The compute dtype is left out on
    // purpose, so gates trained in float32 apply to the same model run in bfloat16.
    json c;
    c["family"] = a.family;
    c["layers"] = a.layers;
    c["hidden"] = a.hidden;
    c["intermediate"] = a.intermediate;
    c["heads"] = a.heads;
    c["kv_heads"] = a.kvHeads;
    c["head_dim"] = a.headDim;
    c["vocab"] = a.vocab;
    c["rope_theta"] = a.ropeTheta;
    c["rope_scaling"] = scalingJson(a.ropeScaling);
    c["rope_layout"] = layoutName(a.ropeLayout);
    c["rms_norm_eps"] = a.rmsNormEps;
    c["tied_embeddings"] = a.tiedEmbeddings;
    std::ostringstream s;
    s << c.dump() << '\n';
    for (const auto &[name, t] : decoder.namedWeights()) { // std::map: sorted by name
        s << name << ' ';
        for (auto d : t.sizes())
            s << d << ',';
        s << '\n';
    }
    const std::string text = s.str();
    return sha256Hex(text.data(), text.size());
}

std::int64_t gateParameterCount(const GateConfig &c)
{
    const std::int64_t dg = c.gateDim > 0 ? c.gateDim : c.headDim;
    if (c.hasQueryProjection())
        return c.layers * (c.kvHeads * 3 * c.headDim * dg + c.qHeads * c.headDim * dg);
    return c.layers * c.qHeads * 3 * c.headDim * dg;
}

GateGeometry GateSet::Impl::geometry() const
{
    GateGeometry g;
    g.qHeads = config.qHeads;
    g.kvHeads = config.kvHeads;
    g.headDim = config.headDim;
    g.gateDim = config.gateDim;
    g.blockSize = config.blockSize;
    g.ropeLayout = config.ropeLayout;
    g.invFreq = invFreq;
    return g;
}

GateSet::GateSet(std::unique_ptr<Impl> impl)
    : d(std::move(impl))
{
}
GateSet::GateSet(GateSet &&) noexcept = default;
GateSet &GateSet::operator=(GateSet &&) noexcept = default;
GateSet::~GateSet() = default;

const GateConfig &GateSet::config() const
{
    return d->config;
}
GateConfig &GateSet::config()
{
    return d->config;
}
std::int64_t GateSet::parameterCount() const
{
    return gateParameterCount(d->config);
}

namespace {

GateConfig configFor(const Decoder &decoder, int blockSize, std::int64_t gateDim)
{
    const Architecture &a = decoder.architecture();
    GateConfig c;
    c.blockSize = blockSize;
    c.layers = a.layers;
    c.qHeads = a.heads;
    c.kvHeads = a.kvHeads;
    c.headDim = a.headDim;
    c.gateDim = gateDim > 0 ? gateDim : a.headDim;
    c.ropeLayout = a.ropeLayout;
    c.ropeTheta = a.ropeTheta;
    c.ropeScaling = scalingJson(a.ropeScaling);
    c.baseFingerprint = modelFingerprint(decoder);
#ifdef BLOCKSCOPE_VERSION
    c.createdBy = std::string("Blockscope ") + BLOCKSCOPE_VERSION;
#else
    c.createdBy = "Blockscope";
#endif
    return c;
}

at::Tensor gateInvFreq(const Decoder &decoder, std::int64_t gateDim)
{
    Architecture a = decoder.architecture();
    a.headDim = gateDim;
    return ropeInverseFrequencies(a);
}

} // namespace

GateSet GateSet::create(const Decoder &decoder, int blockSize, std::uint64_t seed, std::int64_t gateDim)
{
    if (blockSize <= 0)
        throw UsageError("--block: the gate block size must be positive, got " + std::to_string(blockSize));
    auto impl = std::make_unique<Impl>();
    impl->config = configFor(decoder, blockSize, gateDim);
    if (impl->config.gateDim % 2 != 0)
        throw UsageError("gate dimension " + std::to_string(impl->config.gateDim) + " must be even (RoPE)");
    impl->invFreq = gateInvFreq(decoder, impl->config.gateDim);
    const GateConfig &c = impl->config;
    c10::NoGradGuard noGrad;
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    const auto dev = decoder.options().device;
    const std::int64_t hk = c.hasQueryProjection() ? c.kvHeads : c.qHeads;
    for (std::int64_t l = 0; l < c.layers; ++l) {
        GateLayerWeights w;
        w.wk = (at::normal(0.0, 0.02, {hk, 3 * c.headDim, c.gateDim}, gen, at::TensorOptions().dtype(at::kFloat)))
                   .to(dev);
        if (c.hasQueryProjection())
            w.wq = at::normal(0.0, 0.02, {c.qHeads, c.headDim, c.gateDim}, gen, at::TensorOptions().dtype(at::kFloat))
                       .to(dev);
        impl->layers.push_back(std::move(w));
    }
    return GateSet(std::move(impl));
}

void GateSet::save(const std::string &path) const
{
    const GateConfig &c = d->config;
    std::vector<at::Tensor> keep;
    std::vector<SafetensorsEntry> entries;
    auto add = [&](const std::string &name, const at::Tensor &t) {
        at::Tensor cpu = t.detach().to(at::kCPU, at::kFloat).contiguous();
        keep.push_back(cpu);
        entries.push_back({name, DType::F32, cpu.sizes().vec(),
            std::span<const std::byte>(
                static_cast<const std::byte *>(cpu.data_ptr()), static_cast<std::size_t>(cpu.nbytes()))});
    };
    for (std::int64_t l = 0; l < c.layers; ++l) {
        add(kName(l), d->layers[static_cast<std::size_t>(l)].wk);
        if (d->layers[static_cast<std::size_t>(l)].wq.defined())
            add(qName(l), d->layers[static_cast<std::size_t>(l)].wq);
    }
    std::map<std::string, std::string> meta{
        {"format", "blockscope.seergate"},
        {"format_version", "1"},
        {"gate_type", c.gateType},
        {"block_size", std::to_string(c.blockSize)},
        {"gate_hidden_size", std::to_string(c.gateDim)},
        {"force_double", c.forceDouble ? "true" : "false"},
        {"num_layers", std::to_string(c.layers)},
        {"num_q_heads", std::to_string(c.qHeads)},
        {"num_kv_heads", std::to_string(c.kvHeads)},
        {"head_dim", std::to_string(c.headDim)},
        {"rope_convention", layoutName(c.ropeLayout)},
        {"rope_theta", json(c.ropeTheta).dump()},
        {"rope_scaling", c.ropeScaling},
        {"base_fingerprint", c.baseFingerprint},
        {"train_recipe", c.trainRecipe},
        {"created_by", c.createdBy},
    };
    writeSafetensors(path, std::move(entries), meta);
    // The settings again as a small JSON beside the weights, for people and scripts (the loader
    // reads the safetensors metadata, which is authoritative).
    json settings = json::object();
    for (const auto &[k, v] : meta)
        settings[k] = v;
    std::string sidecar = path;
    const std::string suffix = ".safetensors";
    if (sidecar.size() > suffix.size() && sidecar.compare(sidecar.size() - suffix.size(), suffix.size(), suffix) == 0)
        sidecar.erase(sidecar.size() - suffix.size());
    sidecar += ".json";
    writeFileAtomically(sidecar, settings.dump(2) + "\n");
}

namespace {

struct GateFile
{
    std::shared_ptr<const MappedFile> file;
    std::vector<TensorInfo> tensors;
    std::map<std::string, std::string> meta;
};

GateFile openGateFile(const std::string &path)
{
    GateFile g;
    g.file = MappedFile::open(path);
    std::vector<std::string> warnings;
    g.tensors = readSafetensorsTensors(*g.file, warnings, &g.meta);
    return g;
}

std::int64_t metaInt(const GateFile &g, const std::string &path, const std::string &key)
{
    auto it = g.meta.find(key);
    if (it == g.meta.end())
        throw GateMismatch(path, "__metadata__." + key, "is missing");
    try {
        std::size_t used = 0;
        const long long v = std::stoll(it->second, &used);
        if (used != it->second.size() || v < 0)
            throw std::invalid_argument("x");
        return v;
    } catch (const std::exception &) {
        throw GateMismatch(path, "__metadata__." + key, "is \"" + it->second + "\", not a non-negative integer");
    }
}

std::string metaString(const GateFile &g, const std::string &path, const std::string &key)
{
    auto it = g.meta.find(key);
    if (it == g.meta.end())
        throw GateMismatch(path, "__metadata__." + key, "is missing");
    return it->second;
}

GateConfig configFromFile(const GateFile &g, const std::string &path)
{
    if (g.meta.count("format") == 0 || g.meta.at("format") != "blockscope.seergate")
        throw GateMismatch(path, "__metadata__.format", "is not \"blockscope.seergate\": this is not a gate file");
    const std::int64_t version = metaInt(g, path, "format_version");
    if (version != 1)
        throw GateMismatch(path, "__metadata__.format_version",
            "is " + std::to_string(version) + "; this build reads version 1 (a newer Blockscope wrote it?)");
    GateConfig c;
    c.gateType = metaString(g, path, "gate_type");
    if (c.gateType != "Qavg_Kmaxminavg")
        throw GateMismatch(
            path, "__metadata__.gate_type", "\"" + c.gateType + "\" is not supported (Qavg_Kmaxminavg is)");
    c.blockSize = static_cast<int>(metaInt(g, path, "block_size"));
    if (c.blockSize <= 0 || c.blockSize > 4096)
        throw GateMismatch(path, "__metadata__.block_size", "is " + std::to_string(c.blockSize) + ", outside 1..4096");
    c.gateDim = metaInt(g, path, "gate_hidden_size");
    const std::string fd = metaString(g, path, "force_double");
    if (fd != "true" && fd != "false")
        throw GateMismatch(path, "__metadata__.force_double", "is \"" + fd + "\", not true or false");
    c.forceDouble = fd == "true";
    c.layers = metaInt(g, path, "num_layers");
    c.qHeads = metaInt(g, path, "num_q_heads");
    c.kvHeads = metaInt(g, path, "num_kv_heads");
    c.headDim = metaInt(g, path, "head_dim");
    const std::string rc = metaString(g, path, "rope_convention");
    if (rc != "rotate_half" && rc != "interleaved")
        throw GateMismatch(path, "__metadata__.rope_convention", "is \"" + rc + "\", not rotate_half or interleaved");
    c.ropeLayout = rc == "interleaved" ? RopeLayout::Interleaved : RopeLayout::RotateHalf;
    try {
        c.ropeTheta = std::stod(metaString(g, path, "rope_theta"));
    } catch (const std::invalid_argument &) {
        throw GateMismatch(path, "__metadata__.rope_theta", "is not a number");
    }
    c.ropeScaling = metaString(g, path, "rope_scaling");
    c.baseFingerprint = metaString(g, path, "base_fingerprint");
    auto opt = [&](const char *k) { return g.meta.count(k) ? g.meta.at(k) : std::string(); };
    c.trainRecipe = opt("train_recipe");
    c.createdBy = opt("created_by");
    if (c.qHeads == 0 || c.kvHeads == 0 || c.qHeads % c.kvHeads != 0 || c.headDim == 0 || c.gateDim == 0
        || c.gateDim % 2 != 0)
        throw GateMismatch(path, "__metadata__", "has inconsistent head counts or dimensions");
    return c;
}

at::Tensor readF32(
    const GateFile &g, const std::string &path, const std::string &name, const std::vector<std::int64_t> &shape)
{
    for (const TensorInfo &t : g.tensors) {
        if (t.name != name)
            continue;
        if (t.dtype != DType::F32 && t.dtype != DType::BF16)
            throw GateMismatch(path, name, "is stored as " + t.storageType + "; gate files hold F32 or BF16");
        if (t.shape != shape) {
            std::ostringstream s;
            s << "has shape [";
            for (std::size_t i = 0; i < t.shape.size(); ++i)
                s << (i ? "," : "") << t.shape[i];
            s << "], expected [";
            for (std::size_t i = 0; i < shape.size(); ++i)
                s << (i ? "," : "") << shape[i];
            s << "]";
            throw GateMismatch(path, name, s.str());
        }
        const auto type = t.dtype == DType::F32 ? at::kFloat : at::kBFloat16;
        at::Tensor out = at::empty(shape, at::TensorOptions().dtype(type));
        std::memcpy(out.data_ptr(), g.file->data() + t.offset, static_cast<std::size_t>(out.nbytes()));
        return out.to(at::kFloat);
    }
    throw GateMismatch(path, name, "is missing");
}

} // namespace

GateConfig GateSet::readConfig(const std::string &path)
{
    return configFromFile(openGateFile(path), path);
}

GateSet GateSet::load(const std::string &path, const Decoder &decoder)
{
    const GateFile file = openGateFile(path);
    GateConfig c = configFromFile(file, path);
    const Architecture &a = decoder.architecture();
    auto check = [&](const char *field, std::int64_t file, std::int64_t model) {
        if (file != model)
            throw GateMismatch(path, std::string("__metadata__.") + field,
                "is " + std::to_string(file) + " but the model has " + std::to_string(model)
                    + ": these gates were trained for another model");
    };
    check("num_layers", c.layers, a.layers);
    check("num_q_heads", c.qHeads, a.heads);
    check("num_kv_heads", c.kvHeads, a.kvHeads);
    check("head_dim", c.headDim, a.headDim);
    if (c.ropeLayout != a.ropeLayout)
        throw GateMismatch(path, "__metadata__.rope_convention",
            "is " + layoutName(c.ropeLayout) + " but the model uses " + layoutName(a.ropeLayout));
    const std::string fp = modelFingerprint(decoder);
    if (c.baseFingerprint != fp)
        throw GateMismatch(path, "__metadata__.base_fingerprint",
            "does not match the model (" + c.baseFingerprint.substr(0, 12) + "… vs " + fp.substr(0, 12)
                + "…): these gates were trained for another model");
    auto impl = std::make_unique<Impl>();
    impl->config = c;
    impl->invFreq = gateInvFreq(decoder, c.gateDim);
    const auto dev = decoder.options().device;
    const std::int64_t hk = c.hasQueryProjection() ? c.kvHeads : c.qHeads;
    std::size_t expected = 0;
    for (std::int64_t l = 0; l < c.layers; ++l) {
        GateLayerWeights w;
        w.wk = readF32(file, path, kName(l), {hk, 3 * c.headDim, c.gateDim}).to(dev);
        ++expected;
        if (c.hasQueryProjection()) {
            w.wq = readF32(file, path, qName(l), {c.qHeads, c.headDim, c.gateDim}).to(dev);
            ++expected;
        }
        impl->layers.push_back(std::move(w));
    }
    if (file.tensors.size() != expected)
        for (const TensorInfo &t : file.tensors) {
            bool known = false;
            for (std::int64_t l = 0; l < c.layers && !known; ++l)
                known = t.name == kName(l) || (c.hasQueryProjection() && t.name == qName(l));
            if (!known)
                throw GateMismatch(path, t.name, "is not a tensor of this gate set");
        }
    return GateSet(std::move(impl));
}

} // namespace blockscope::sparse

namespace blockscope::sparse {

at::Tensor GateSet::Impl::logits(const AttentionInputs &in) const
{
    const int B = config.blockSize;
    return gateLogitsFromPooled(avgPoolBlocks(in.queriesPreRope.to(at::kFloat), B),
        maxMinAvgPoolBlocks(in.keysPreRope.to(at::kFloat), B), layers[static_cast<std::size_t>(in.layer)], geometry());
}

BlockGrid toGrid(const at::Tensor &square)
{
    at::Tensor t = square.detach().to(at::kCPU, at::kFloat).contiguous();
    BlockGrid g(static_cast<int>(t.size(0)));
    std::memcpy(g.values.data(), t.data_ptr<float>(), g.values.size() * sizeof(float));
    return g;
}

at::Tensor toTensor(const BlockGrid &grid)
{
    at::Tensor t = at::empty({grid.nb, grid.nb}, at::kFloat);
    std::memcpy(t.data_ptr<float>(), grid.values.data(), grid.values.size() * sizeof(float));
    return t;
}

at::Tensor masksToTensor(const std::vector<BlockMask> &masks, std::int64_t b, std::int64_t heads, at::Device device)
{
    const std::int64_t nb = masks.empty() ? 0 : masks.front().nb;
    at::Tensor t = at::zeros({b, heads, nb, nb}, at::kBool);
    bool *p = t.data_ptr<bool>();
    for (std::size_t m = 0; m < masks.size(); ++m)
        for (std::size_t c = 0; c < masks[m].cells.size(); ++c)
            p[m * static_cast<std::size_t>(nb * nb) + c] = masks[m].cells[c] != MaskCell::Off;
    return t.to(device);
}

} // namespace blockscope::sparse
