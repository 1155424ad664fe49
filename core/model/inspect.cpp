#include "inspect.h"

#include "modelhandle.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace blockscope {

std::string humanBytes(std::uint64_t b)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(b);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
    return buf;
}

std::string humanCount(std::uint64_t n)
{
    char buf[32];
    if (n >= 1000000000)
        std::snprintf(buf, sizeof buf, "%.2fB", n / 1e9);
    else if (n >= 1000000)
        std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
    else if (n >= 1000)
        std::snprintf(buf, sizeof buf, "%.1fK", n / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
    return buf;
}

std::string shapeString(const std::vector<std::int64_t> &shape)
{
    std::string r = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        r += (i ? ", " : "") + std::to_string(shape[i]);
    return r + "]";
}

namespace {
const char *ropeLayoutName(RopeLayout l)
{
    return l == RopeLayout::Interleaved ? "interleaved pairs" : "rotate_half";
}
const char *scalingName(RopeScaling::Type t)
{
    return t == RopeScaling::Type::Linear ? "linear" : t == RopeScaling::Type::Llama3 ? "llama3" : "none";
}
} // namespace

std::string architectureSummary(const ModelHandle &m)
{
    const Architecture &a = m.architecture();
    std::ostringstream s;
    auto known = [&](std::int64_t v) {
        return m.architectureComplete() || v != 0 ? std::to_string(v) : std::string("unknown");
    };
    s << "path:            " << m.path() << "\n"
      << "format:          " << formatName(m.format()) << "\n"
      << "family:          " << a.family << "\n"
      << "blocks:          " << a.layers << "\n"
      << "hidden size:     " << a.hidden << "\n"
      << "MLP size:        " << a.intermediate << "\n"
      << "heads:           " << known(a.heads) << " (key/value heads " << known(a.kvHeads) << ", head dim "
      << known(a.headDim) << ")\n"
      << "vocabulary:      " << a.vocab << "\n"
      << "context:         " << a.context << "\n"
      << "RMSNorm eps:     " << a.rmsNormEps << "\n"
      << "RoPE:            theta " << a.ropeTheta << ", " << ropeLayoutName(a.ropeLayout) << ", scaling "
      << scalingName(a.ropeScaling.type);
    if (a.ropeScaling.type != RopeScaling::Type::None)
        s << " (factor " << a.ropeScaling.factor << ")";
    s << "\n"
      << "embeddings:      " << (a.tiedEmbeddings ? "tied" : "untied") << "\n"
      << "biases:          "
      << (a.attentionBias    ? "q/k/v/o"
                 : a.qkvBias ? "q/k/v"
                             : "none")
      << (a.mlpBias ? " + MLP" : "") << "\n"
      << "parameters:      " << m.parameterCount() << " (" << humanCount(m.parameterCount()) << ")\n"
      << "tensor bytes:    " << m.totalBytes() << " (" << humanBytes(m.totalBytes()) << ")\n"
      << "tensors:         " << m.tensors().size() << " in " << m.files().size() << " file(s)\n"
      << "formats:         " << formatMix(m) << "\n";
    if (m.tokenizer())
        s << "tokenizer:       " << m.tokenizer()->kind
          << (m.tokenizer()->size > 0 ? ", " + std::to_string(m.tokenizer()->size) + " tokens" : std::string()) << " ("
          << m.tokenizer()->path << ")\n";
    else
        s << "tokenizer:       none found\n";
    for (const auto &w : m.warnings())
        s << "warning:         " << w << "\n";
    return s.str();
}

double bitsPerWeight(const TensorInfo &t)
{
    const auto n = t.elementCount();
    return n ? 8.0 * static_cast<double>(t.bytes) / static_cast<double>(n) : 0.0;
}

std::string formatMix(const ModelHandle &m)
{
    struct Count
    {
        int tensors = 0;
        std::uint64_t params = 0, bytes = 0;
    };
    std::map<std::string, Count> byFormat;
    std::uint64_t params = 0, bytes = 0;
    for (const auto &t : m.tensors()) {
        auto &c = byFormat[t.storageType];
        ++c.tensors;
        c.params += t.elementCount();
        c.bytes += t.bytes;
        params += t.elementCount();
        bytes += t.bytes;
    }
    std::ostringstream s;
    bool first = true;
    for (const auto &[name, c] : byFormat) {
        char part[160];
        std::snprintf(part, sizeof part, "%s%s %d tensor%s, %s params at %.3g bits", first ? "" : "; ", name.c_str(),
            c.tensors, c.tensors == 1 ? "" : "s", humanCount(c.params).c_str(),
            c.params ? 8.0 * static_cast<double>(c.bytes) / static_cast<double>(c.params) : 0.0);
        s << part;
        first = false;
    }
    if (params) {
        char part[64];
        std::snprintf(part, sizeof part, " (%.3g bits per weight overall)",
            8.0 * static_cast<double>(bytes) / static_cast<double>(params));
        s << part;
    }
    return s.str();
}

std::string tensorTable(const ModelHandle &m, const std::map<std::string, TensorStats> *stats)
{
    std::ostringstream s;
    char line[512];
    std::snprintf(line, sizeof line, "%-48s %-12s %-7s %-7s %6s %-10s %12s %14s", "tensor", "role", "block", "format",
        "bits", "shape", "params", "bytes");
    s << line;
    if (stats)
        s << "        min        max       mean        std         l2  zeros%  nan/inf";
    s << "\n";
    for (const auto &t : m.tensors()) {
        std::snprintf(line, sizeof line, "%-48s %-12s %-7s %-7s %6.3g %-10s %12llu %14llu", t.name.c_str(),
            std::string(roleName(t.role)).c_str(), t.block >= 0 ? std::to_string(t.block).c_str() : "-",
            t.storageType.c_str(), bitsPerWeight(t), shapeString(t.shape).c_str(),
            static_cast<unsigned long long>(t.elementCount()), static_cast<unsigned long long>(t.bytes));
        s << line;
        if (stats) {
            auto it = stats->find(t.name);
            if (it != stats->end()) {
                const auto &x = it->second;
                std::snprintf(line, sizeof line, " %10.4g %10.4g %10.4g %10.4g %10.4g %7.3f %4llu/%llu", x.min, x.max,
                    x.mean, x.std, x.l2, 100 * x.zeroFraction, static_cast<unsigned long long>(x.nanCount),
                    static_cast<unsigned long long>(x.infCount));
                s << line;
            } else {
                s << "  (not loadable)";
            }
        }
        s << "\n";
    }
    return s.str();
}

nlohmann::json inspectJson(const ModelHandle &m, const std::map<std::string, TensorStats> *stats)
{
    const Architecture &a = m.architecture();
    nlohmann::json j;
    j["path"] = m.path();
    j["format"] = formatName(m.format());
    j["architecture"] = {
        {"family", a.family},
        {"layers", a.layers},
        {"hidden_size", a.hidden},
        {"intermediate_size", a.intermediate},
        {"heads", a.heads},
        {"kv_heads", a.kvHeads},
        {"head_dim", a.headDim},
        {"vocab_size", a.vocab},
        {"context_length", a.context},
        {"rms_norm_eps", a.rmsNormEps},
        {"rope_theta", a.ropeTheta},
        {"rope_layout", a.ropeLayout == RopeLayout::Interleaved ? "interleaved" : "rotate_half"},
        {"rope_scaling", scalingName(a.ropeScaling.type)},
        {"tied_embeddings", a.tiedEmbeddings},
        {"complete", m.architectureComplete()},
    };
    j["parameters"] = m.parameterCount();
    j["bytes"] = m.totalBytes();
    j["warnings"] = m.warnings();
    if (m.tokenizer())
        j["tokenizer"] = {{"kind", m.tokenizer()->kind}, {"path", m.tokenizer()->path}, {"size", m.tokenizer()->size}};
    auto &tensors = j["tensors"] = nlohmann::json::array();
    for (const auto &t : m.tensors()) {
        nlohmann::json e = {{"name", t.name}, {"source_name", t.sourceName}, {"role", roleName(t.role)},
            {"block", t.block}, {"dtype", t.storageType}, {"shape", t.shape}, {"parameters", t.elementCount()},
            {"bytes", t.bytes}, {"bits_per_weight", bitsPerWeight(t)}, {"file", m.fileName(t.fileIndex)},
            {"offset", t.offset}, {"loadable", t.loadable}};
        if (stats) {
            auto it = stats->find(t.name);
            if (it != stats->end()) {
                const auto &x = it->second;
                auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
                e["stats"] = {{"min", num(x.min)}, {"max", num(x.max)}, {"mean", num(x.mean)}, {"std", num(x.std)},
                    {"l2", num(x.l2)}, {"zero_fraction", x.zeroFraction}, {"nan", x.nanCount}, {"inf", x.infCount}};
            }
        }
        tensors.push_back(std::move(e));
    }
    return j;
}

} // namespace blockscope
