#pragma once

// Synthetic PPA points for the PPA page's tests: a dense model and three pruning steps on a
// four-block model with hand-picked figures, so frontiers, gaps and shares are known exactly.
// Header-only: only the PPA suites in tests/views include it.

#include "model/unitmask.h"
#include "ppa/ppa.h"

#include <string>
#include <vector>

namespace blockscope::test {

inline ppa::Figure measuredFigure(double value, std::string note = {})
{
    return {value, value * 0.9, value * 1.1, 5, ppa::Provenance::Measured, std::move(note)};
}

// Units embedding, attn L, mlp L per block, lm_head; removed ones per the mask. Parameters:
// embedding 1000, attention 400, MLP 800, lm_head 1000; time and energy measured in proportion
// (energy modelled when nothing was timed).
inline ppa::CostModel syntheticCosts(const UnitMask &mask, bool timed)
{
    ppa::CostModel c;
    auto add = [&](const std::string &name, int layer, bool removed, std::int64_t params) {
        ppa::UnitCost u;
        u.unit = name;
        u.layer = layer;
        u.removed = removed;
        u.params = removed ? 0 : params;
        u.storedBytes = 4.0 * static_cast<double>(u.params);
        u.prefillFlopsPerToken = 2.0 * static_cast<double>(u.params);
        u.decodeFlopsPerToken = u.prefillFlopsPerToken;
        u.decodeBytesPerToken = u.storedBytes;
        if (timed && !removed) {
            u.seconds = measuredFigure(1e-6 * static_cast<double>(params));
            u.joulesPerToken = {1e-9 * static_cast<double>(params), ppa::NaN, ppa::NaN, 0, ppa::Provenance::Measured,
                "measured total apportioned by measured time"};
        } else if (!removed) {
            u.joulesPerToken = ppa::Figure::modelled(2e-9 * static_cast<double>(params), "modelled");
        }
        c.paramsTotal += params;
        c.paramsKept += u.params;
        c.storedBytes += u.storedBytes;
        c.units.push_back(u);
    };
    add("embedding", -1, false, 1000);
    for (int l = 0; l < mask.layers(); ++l) {
        add("attn " + std::to_string(l), l, mask.skipAttn[static_cast<std::size_t>(l)], 400);
        add("mlp " + std::to_string(l), l, mask.skipMlp[static_cast<std::size_t>(l)], 800);
    }
    add("lm_head", -1, false, 1000);
    c.storedBytesByDtype["F32"] = c.storedBytes;
    c.computeBytes = c.storedBytes;
    return c;
}

struct SyntheticPoint
{
    std::string label;
    int step;
    std::vector<int> blocksRemoved;
    double perplexity;
    double tokensPerSecond; // measured prefill
    double msPerToken; // measured decode
};

// The calibrated roofline predicts 1.25x the measured throughput and 0.8x the latency; the
// "H100 SXM" one 1000x and 0.001x. Measured prefill energy 2 mJ/token scaled by throughput;
// decode energy is a modelled fallback (no counter), which the measured columns must leave out.
inline ppa::PpaPoint syntheticPoint(const SyntheticPoint &s, bool measured, bool predictions, int layers = 4)
{
    ppa::PpaPoint p;
    p.label = s.label;
    p.step = s.step;
    p.mask = UnitMask::dense(layers);
    for (int b : s.blocksRemoved)
        p.mask.skipBlock(b);
    p.perplexity = s.perplexity;
    p.klToDense = s.step < 0 ? 0.0 : 0.05 * (s.step + 1);
    p.protocol = "tiny-ts: 4 windows of 128 tokens";
    p.costs = syntheticCosts(p.mask, measured);
    if (measured) {
        ppa::Measurement m;
        m.device = "cpu (test CPU, 1 thread)";
        m.dtype = "float32";
        m.threads = 1;
        m.batch = 1;
        m.seq = 128;
        m.decodeTokens = 16;
        m.prefillTokensPerSecond = measuredFigure(s.tokensPerSecond);
        m.decodeMsPerToken = measuredFigure(s.msPerToken);
        m.prefillJoulesPerToken = measuredFigure(2e-3 * 1000.0 / s.tokensPerSecond, "RAPL package-0");
        m.decodeJoulesPerToken = ppa::Figure::modelled(5e-3, "no energy counter: modelled");
        m.peakMemoryBytes = ppa::Figure::modelled(8.5e6);
        m.energySource = "RAPL package-0";
        p.measured = m;
    }
    if (predictions) {
        ppa::Prediction local;
        local.device = "this machine (CPU, calibrated)";
        local.calibrated = true;
        local.prefillTokensPerSecond = 1.25 * s.tokensPerSecond;
        local.decodeMsPerToken = 0.8 * s.msPerToken;
        local.prefillJoulesPerToken = 1.5e-3 * 1000.0 / s.tokensPerSecond;
        local.decodeJoulesPerToken = 1e-3 * s.msPerToken;
        p.predictions.push_back(local);
        ppa::Prediction h100;
        h100.device = "H100 SXM";
        h100.prefillTokensPerSecond = 1000.0 * s.tokensPerSecond;
        h100.decodeMsPerToken = 0.001 * s.msPerToken;
        h100.prefillJoulesPerToken = 1e-6;
        h100.decodeJoulesPerToken = 2e-6;
        h100.prefillComputeBound = true;
        p.predictions.push_back(h100);
    }
    return p;
}

// Dense, then steps removing blocks 2, 1 and 0. Step 1 is dominated (slower and worse than step
// 0), so the measured prefill frontier is dense, step 0, step 2.
inline std::vector<SyntheticPoint> syntheticRunSpec()
{
    return {{"dense", -1, {}, 10.0, 1000, 4.0}, {"step 0: block 2", 0, {2}, 11.0, 1300, 3.5},
        {"step 1: block 1", 1, {2, 1}, 13.0, 1250, 3.0}, {"step 2: block 0", 2, {2, 1, 0}, 20.0, 1800, 2.5}};
}

inline std::vector<ppa::PpaPoint> syntheticRun(bool measured, bool predictions)
{
    std::vector<ppa::PpaPoint> points;
    for (const SyntheticPoint &s : syntheticRunSpec())
        points.push_back(syntheticPoint(s, measured, predictions));
    return points;
}

} // namespace blockscope::test
