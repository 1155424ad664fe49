#include "ppa.h"

#include "model/dtype.h"
#include "model/tensorinfo.h"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace blockscope::ppa {

double dtypeBytes(const std::string &dtype)
{
    if (dtype == "float32")
        return 4;
    if (dtype == "bfloat16" || dtype == "float16")
        return 2;
    throw std::invalid_argument("dtype \"" + dtype + "\" is not float32, bfloat16 or float16");
}

namespace {

// Parameters of one unit by the architecture's formulas (biases and norms included).
std::int64_t attentionParams(const Architecture &a)
{
    const std::int64_t d = a.hidden, q = a.heads * a.headDim, kv = a.kvHeads * a.headDim;
    std::int64_t n = d * q + 2 * d * kv + q * d + d; // q, k, v, o, input norm
    if (a.qkvBias || a.attentionBias)
        n += q + 2 * kv;
    if (a.attentionBias)
        n += d;
    return n;
}

std::int64_t mlpParams(const Architecture &a)
{
    const std::int64_t d = a.hidden, f = a.intermediate;
    std::int64_t n = 3 * d * f + d; // gate, up, down, post-attention norm
    if (a.mlpBias)
        n += 2 * f + d;
    return n;
}

// The unit a tensor belongs to, as UnitCost::unit names it.
std::string unitOf(const TensorInfo &t)
{
    switch (t.role) {
    case TensorRole::Embedding: return "embedding";
    case TensorRole::Attention: return "attn " + std::to_string(t.block);
    case TensorRole::Mlp: return "mlp " + std::to_string(t.block);
    case TensorRole::FinalNorm:
    case TensorRole::LmHead: return "lm_head";
    case TensorRole::Other: break;
    }
    return {};
}

} // namespace

CostModel analyticCosts(
    const Architecture &a, const std::vector<TensorInfo> &tensors, const UnitMask &mask, const Workload &w)
{
    if (mask.layers() != a.layers)
        throw std::invalid_argument(
            "unit mask has " + std::to_string(mask.layers()) + " layers, the model " + std::to_string(a.layers));
    if (w.seq < 1 || w.batch < 1 || w.decodeTokens < 0)
        throw std::invalid_argument("workload: batch and seq must be at least 1");
    if (!(w.attentionDensity > 0 && w.attentionDensity <= 1))
        throw std::invalid_argument("workload: attention density must be in (0, 1]");
    const double b = dtypeBytes(w.dtype);
    const double d = static_cast<double>(a.hidden), F = static_cast<double>(a.intermediate),
                 V = static_cast<double>(a.vocab), H = static_cast<double>(a.heads),
                 Hkv = static_cast<double>(a.kvHeads), hd = static_cast<double>(a.headDim);
    const double S = w.seq, tokensPerForward = static_cast<double>(w.batch) * S;
    const double prefillContext = (S + 1) / 2 * w.attentionDensity; // mean keys per query, causal
    const double decodeContext = S + w.decodeTokens / 2.0; // mean context while decoding after S

    CostModel c;
    auto unit = [&](const std::string &name, int layer, bool removed) -> UnitCost & {
        UnitCost u;
        u.unit = name;
        u.layer = layer;
        u.removed = removed;
        c.units.push_back(std::move(u));
        return c.units.back();
    };

    // Embedding: a lookup (bytes of one row per token, no FLOPs).
    const std::int64_t embedParams = a.vocab * a.hidden;
    {
        UnitCost &u = unit("embedding", -1, false);
        u.params = embedParams;
        u.decodeBytesPerToken = d * b;
    }
    for (int l = 0; l < a.layers; ++l) {
        UnitCost &at = unit("attn " + std::to_string(l), l, mask.skipAttn[l]);
        at.params = attentionParams(a);
        const double proj = 2 * d * (H * hd + 2 * Hkv * hd) + 2 * H * hd * d;
        const double elementwise = 4 * d + 3 * (H + Hkv) * hd + d; // norm, RoPE, residual
        at.prefillFlopsPerToken = proj + elementwise + 4 * H * hd * prefillContext + 3 * H * prefillContext;
        at.decodeFlopsPerToken = proj + elementwise + 4 * H * hd * decodeContext + 3 * H * decodeContext;
        at.decodeBytesPerToken = static_cast<double>(at.params) * b + 2 * Hkv * hd * (decodeContext + 1) * b;
        UnitCost &m = unit("mlp " + std::to_string(l), l, mask.skipMlp[l]);
        m.params = mlpParams(a);
        m.prefillFlopsPerToken = m.decodeFlopsPerToken = 6 * d * F + 5 * F + 4 * d + d;
        m.decodeBytesPerToken = static_cast<double>(m.params) * b;
    }
    {
        UnitCost &u = unit("lm_head", -1, false);
        u.params = a.hidden + (a.tiedEmbeddings ? 0 : a.vocab * a.hidden);
        u.prefillFlopsPerToken = u.decodeFlopsPerToken = 2 * d * V + 4 * d;
        u.decodeBytesPerToken = (d + V * d) * b; // a tied head still reads the whole matrix
    }

    // Stored bytes per unit from the checkpoint's own tensors (exact), when given.
    if (!tensors.empty()) {
        for (UnitCost &u : c.units) {
            u.params = 0;
            u.storedBytes = 0;
        }
        for (const TensorInfo &t : tensors) {
            const std::string name = unitOf(t);
            auto it = std::find_if(c.units.begin(), c.units.end(), [&](const UnitCost &u) { return u.unit == name; });
            if (it == c.units.end())
                continue;
            it->params += static_cast<std::int64_t>(t.elementCount());
            it->storedBytes += static_cast<double>(t.bytes);
            if (!it->removed)
                c.storedBytesByDtype[std::string(dtypeName(t.dtype))] += static_cast<double>(t.bytes);
        }
    } else {
        for (UnitCost &u : c.units) {
            u.storedBytes = static_cast<double>(u.params) * b;
            if (!u.removed)
                c.storedBytesByDtype[w.dtype] += u.storedBytes;
        }
    }

    double activationPerToken = 0, kvWritesPerToken = 0;
    double peakTransient = 0;
    for (const UnitCost &u : c.units) {
        c.paramsTotal += u.params;
        if (u.removed)
            continue;
        c.paramsKept += u.params;
        c.storedBytes += u.storedBytes;
        c.computeBytes += static_cast<double>(u.params) * b;
        c.prefillFlopsPerToken += u.prefillFlopsPerToken;
        c.decodeFlopsPerToken += u.decodeFlopsPerToken;
        c.decodeBytesPerToken += u.decodeBytesPerToken;
        if (u.unit.rfind("attn", 0) == 0) {
            c.kvBytesPerToken += 2 * Hkv * hd * b;
            kvWritesPerToken += 2 * Hkv * hd * b;
            // Hidden in and out, q/k/v, the attention output.
            activationPerToken += (2 * d + (H + 2 * Hkv) * hd + H * hd) * b;
            peakTransient = std::max(peakTransient, tokensPerForward * (H + 2 * Hkv) * hd * b);
        } else if (u.unit.rfind("mlp", 0) == 0) {
            activationPerToken += (2 * d + 3 * F) * b;
            peakTransient = std::max(peakTransient, tokensPerForward * 3 * F * b);
        }
    }
    activationPerToken += V * 4; // float32 logits
    // Weights are read once per forward of batch·seq tokens.
    const double weightsRead = c.computeBytes - (a.tiedEmbeddings ? 0 : static_cast<double>(embedParams) * b);
    c.prefillBytesPerToken = weightsRead / tokensPerForward + kvWritesPerToken + activationPerToken;
    c.activationPeakBytes
        = tokensPerForward * (3 * d * b + V * 4) + peakTransient + tokensPerForward * c.kvBytesPerToken;
    return c;
}

std::vector<std::size_t> paretoFrontier(
    const std::vector<double> &x, const std::vector<double> &y, bool minimiseX, bool minimiseY)
{
    if (x.size() != y.size())
        throw std::invalid_argument("Pareto frontier: x and y differ in length");
    auto better = [](double a, double b, bool minimise) { return minimise ? a < b : a > b; };
    auto atLeast = [](double a, double b, bool minimise) { return minimise ? a <= b : a >= b; };
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (!std::isfinite(x[i]) || !std::isfinite(y[i]))
            continue;
        bool dominated = false;
        for (std::size_t j = 0; j < x.size() && !dominated; ++j) {
            if (j == i || !std::isfinite(x[j]) || !std::isfinite(y[j]))
                continue;
            dominated = atLeast(x[j], x[i], minimiseX) && atLeast(y[j], y[i], minimiseY)
                && (better(x[j], x[i], minimiseX) || better(y[j], y[i], minimiseY));
        }
        // Exact duplicates: keep the first only.
        for (std::size_t j = 0; j < i && !dominated; ++j)
            dominated = x[j] == x[i] && y[j] == y[i];
        if (!dominated)
            out.push_back(i);
    }
    std::sort(
        out.begin(), out.end(), [&](std::size_t p, std::size_t q) { return x[p] < x[q] || (x[p] == x[q] && p < q); });
    return out;
}

Prediction predict(const CostModel &c, const DeviceSpec &dev, const Workload &w)
{
    auto it = dev.peakFlops.find(w.dtype);
    if (it == dev.peakFlops.end() || !(it->second > 0))
        throw std::invalid_argument("device \"" + dev.name + "\" has no peak FLOP/s for " + w.dtype);
    if (!(dev.bandwidth > 0))
        throw std::invalid_argument("device \"" + dev.name + "\" has no memory bandwidth");
    Prediction p;
    p.device = dev.name;
    p.calibrated = dev.calibrated;
    const double computePrefill = c.prefillFlopsPerToken / it->second,
                 memoryPrefill = c.prefillBytesPerToken / dev.bandwidth;
    p.prefillComputeBound = computePrefill >= memoryPrefill;
    p.prefillTokensPerSecond = 1.0 / std::max(computePrefill, memoryPrefill);
    const double computeDecode = c.decodeFlopsPerToken / it->second,
                 memoryDecode = c.decodeBytesPerToken / dev.bandwidth;
    p.decodeComputeBound = computeDecode >= memoryDecode;
    p.decodeMsPerToken = 1000.0 * std::max(computeDecode, memoryDecode);
    p.prefillJoulesPerToken = c.prefillFlopsPerToken * dev.joulesPerFlop + c.prefillBytesPerToken * dev.joulesPerByte;
    p.decodeJoulesPerToken = c.decodeFlopsPerToken * dev.joulesPerFlop + c.decodeBytesPerToken * dev.joulesPerByte;
    // A calibrated device borrows its energy constants ("from <class>"); a datasheet row has its own.
    const auto source = dev.sources.find("pj_per_flop");
    p.energyConstantsFrom
        = source != dev.sources.end() && source->second.rfind("from ", 0) == 0 ? source->second.substr(5) : dev.name;
    return p;
}

double measuredModelledGap(const PpaPoint &point, double measured, double modelled)
{
    if (!std::isfinite(measured) || !std::isfinite(modelled) || !(modelled != 0))
        return NaN;
    const double ran = point.measured ? point.measured->attentionDensity : 1.0;
    if (std::abs(ran - point.attentionDensity) > 1e-9)
        return NaN;
    return (measured - modelled) / modelled;
}

const Figure *unitFigure(const UnitCost &u, ShareMetric metric)
{
    return metric == ShareMetric::Time ? &u.seconds : metric == ShareMetric::Energy ? &u.joulesPerToken : nullptr;
}

double unitValue(const UnitCost &u, ShareMetric metric)
{
    switch (metric) {
    case ShareMetric::Params: return static_cast<double>(u.params);
    case ShareMetric::Flops: return u.prefillFlopsPerToken;
    case ShareMetric::Bytes: return u.decodeBytesPerToken;
    case ShareMetric::Time:
    case ShareMetric::Energy: {
        const Figure *f = unitFigure(u, metric);
        return f->known() ? f->value : NaN;
    }
    }
    return NaN;
}

double keptTotal(const std::vector<UnitCost> &units, ShareMetric metric)
{
    double sum = 0;
    for (const UnitCost &u : units)
        if (const double v = unitValue(u, metric); !u.removed && std::isfinite(v))
            sum += v;
    return sum;
}

std::vector<double> unitShares(const std::vector<UnitCost> &units, ShareMetric metric)
{
    const double total = keptTotal(units, metric);
    std::vector<double> shares;
    shares.reserve(units.size());
    for (const UnitCost &u : units) {
        const double v = unitValue(u, metric);
        shares.push_back(u.removed ? 0.0 : std::isfinite(v) && total > 0 ? 100.0 * v / total : NaN);
    }
    return shares;
}

std::string sharesProvenance(const std::vector<UnitCost> &units, ShareMetric metric)
{
    if (metric != ShareMetric::Time && metric != ShareMetric::Energy)
        return provenanceName(Provenance::Modelled);
    bool seen[3] = {false, false, false};
    for (const UnitCost &u : units)
        if (const Figure *f = unitFigure(u, metric); !u.removed && f->known())
            seen[static_cast<int>(f->provenance)] = true;
    std::string out;
    for (Provenance p : {Provenance::Measured, Provenance::Derived, Provenance::Modelled})
        if (seen[static_cast<int>(p)])
            out += (out.empty() ? "" : " and ") + std::string(provenanceName(p));
    return out;
}

namespace {
// The sum of the parts' figures: unknown when any part's is, measured only when every part's is,
// modelled when any part's is, else derived.
Figure sumOf(const std::vector<const Figure *> &parts)
{
    Figure sum;
    if (parts.empty())
        return sum;
    sum.value = 0;
    sum.provenance = Provenance::Measured;
    sum.runs = parts.front()->runs;
    for (const Figure *f : parts) {
        if (!f->known())
            return Figure{};
        sum.value += f->value;
        sum.runs = std::min(sum.runs, f->runs);
        if (f->provenance == Provenance::Modelled)
            sum.provenance = Provenance::Modelled;
        else if (f->provenance == Provenance::Derived && sum.provenance == Provenance::Measured)
            sum.provenance = Provenance::Derived;
    }
    return sum;
}
} // namespace

std::vector<UnitCost> unitsByBlock(const std::vector<UnitCost> &units)
{
    std::vector<UnitCost> out;
    std::map<int, std::size_t> blockRow;
    std::map<int, std::vector<const UnitCost *>> kept;
    std::map<int, std::string> removedParts;
    for (const UnitCost &u : units) {
        if (u.layer < 0) {
            out.push_back(u);
            continue;
        }
        if (blockRow.try_emplace(u.layer, out.size()).second) {
            UnitCost b;
            b.unit = "block " + std::to_string(u.layer);
            b.layer = u.layer;
            out.push_back(std::move(b));
        }
        if (u.removed)
            removedParts[u.layer] += (removedParts[u.layer].empty() ? "" : ", ") + u.unit.substr(0, u.unit.find(' '));
        else
            kept[u.layer].push_back(&u);
    }
    for (const auto &[layer, row] : blockRow) {
        UnitCost &b = out[row];
        const auto &parts = kept[layer];
        b.removed = parts.empty();
        if (!b.removed && !removedParts[layer].empty())
            b.unit += " (" + removedParts[layer] + " removed)";
        std::vector<const Figure *> seconds, joules;
        for (const UnitCost *u : parts) {
            b.params += u->params;
            b.storedBytes += u->storedBytes;
            b.prefillFlopsPerToken += u->prefillFlopsPerToken;
            b.decodeFlopsPerToken += u->decodeFlopsPerToken;
            b.decodeBytesPerToken += u->decodeBytesPerToken;
            seconds.push_back(&u->seconds);
            joules.push_back(&u->joulesPerToken);
        }
        b.seconds = sumOf(seconds);
        b.joulesPerToken = sumOf(joules);
    }
    return out;
}

} // namespace blockscope::ppa
