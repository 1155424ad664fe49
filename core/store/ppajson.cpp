#include "ppajson.h"

#include "stepjson.h"

namespace blockscope {

using stepjson::number;

nlohmann::json ppaFigureJson(const ppa::Figure &f)
{
    return {{"value", number(f.value)}, {"min", number(f.min)}, {"max", number(f.max)}, {"runs", f.runs},
        {"provenance", ppa::provenanceName(f.provenance)}, {"note", f.note}};
}

nlohmann::json ppaPointJson(const ppa::PpaPoint &p)
{
    const ppa::CostModel &c = p.costs;
    nlohmann::json byDtype = nlohmann::json::object();
    for (const auto &[dtype, bytes] : c.storedBytesByDtype)
        byDtype[dtype] = number(bytes);
    nlohmann::json units = nlohmann::json::array();
    for (const auto &u : c.units)
        units.push_back({{"unit", u.unit}, {"layer", u.layer}, {"removed", u.removed}, {"params", u.params},
            {"stored_bytes", number(u.storedBytes)}, {"prefill_flops_per_token", number(u.prefillFlopsPerToken)},
            {"decode_flops_per_token", number(u.decodeFlopsPerToken)},
            {"decode_bytes_per_token", number(u.decodeBytesPerToken)}, {"seconds", ppaFigureJson(u.seconds)},
            {"joules_per_token", ppaFigureJson(u.joulesPerToken)}});
    const nlohmann::json costs
        = {{"params_total", c.paramsTotal}, {"params_kept", c.paramsKept}, {"stored_bytes_by_dtype", byDtype},
            {"stored_bytes", number(c.storedBytes)}, {"compute_bytes", number(c.computeBytes)},
            {"kv_bytes_per_token", number(c.kvBytesPerToken)}, {"activation_peak_bytes", number(c.activationPeakBytes)},
            {"prefill_flops_per_token", number(c.prefillFlopsPerToken)},
            {"prefill_bytes_per_token", number(c.prefillBytesPerToken)},
            {"decode_flops_per_token", number(c.decodeFlopsPerToken)},
            {"decode_bytes_per_token", number(c.decodeBytesPerToken)}, {"units", units},
            {"provenance", ppa::provenanceName(ppa::Provenance::Modelled)}};
    nlohmann::json measured = nullptr;
    if (p.measured) {
        const ppa::Measurement &m = *p.measured;
        measured = {{"device", m.device}, {"dtype", m.dtype}, {"threads", m.threads}, {"batch", m.batch},
            {"seq", m.seq}, {"decode_tokens", m.decodeTokens}, {"attention_density", number(m.attentionDensity)},
            {"prefill_tokens_per_second", ppaFigureJson(m.prefillTokensPerSecond)},
            {"decode_ms_per_token", ppaFigureJson(m.decodeMsPerToken)},
            {"prefill_joules_per_token", ppaFigureJson(m.prefillJoulesPerToken)},
            {"decode_joules_per_token", ppaFigureJson(m.decodeJoulesPerToken)},
            {"peak_memory_bytes", ppaFigureJson(m.peakMemoryBytes)}, {"energy_source", m.energySource}};
    }
    nlohmann::json predictions = nlohmann::json::array();
    const ppa::Prediction *local = nullptr;
    for (const auto &q : p.predictions) {
        if (q.calibrated && !local)
            local = &q;
        predictions.push_back({{"device", q.device}, {"calibrated", q.calibrated},
            {"prefill_tokens_per_second", number(q.prefillTokensPerSecond)},
            {"decode_ms_per_token", number(q.decodeMsPerToken)},
            {"prefill_joules_per_token", number(q.prefillJoulesPerToken)},
            {"decode_joules_per_token", number(q.decodeJoulesPerToken)},
            {"prefill_compute_bound", q.prefillComputeBound}, {"decode_compute_bound", q.decodeComputeBound},
            {"energy_constants_from", q.energyConstantsFrom},
            {"provenance", ppa::provenanceName(ppa::Provenance::Modelled)}});
    }
    // Measured against this machine's calibrated roofline, where both exist (measuredModelledGap).
    nlohmann::json gaps = nullptr;
    if (p.measured && local)
        gaps = {{"prefill",
                    number(ppa::measuredModelledGap(
                        p, p.measured->prefillTokensPerSecond.value, local->prefillTokensPerSecond))},
            {"decode",
                number(ppa::measuredModelledGap(p, p.measured->decodeMsPerToken.value, local->decodeMsPerToken))}};
    return {{"label", p.label}, {"step", p.step}, {"mask", stepjson::mask(p.mask)},
        {"attention_density", number(p.attentionDensity)}, {"perplexity", number(p.perplexity)},
        {"kl_to_dense", number(p.klToDense)}, {"protocol", p.protocol}, {"costs", costs}, {"measured", measured},
        {"predictions", predictions}, {"measured_vs_modelled", gaps}};
}

} // namespace blockscope
