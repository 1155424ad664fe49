#include "traceexport.h"

#include "stepjson.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

namespace blockscope {

namespace {

using stepjson::number;

nlohmann::json figureJson(const ppa::Figure &f)
{
    return {{"value", number(f.value)}, {"min", number(f.min)}, {"max", number(f.max)}, {"runs", f.runs},
        {"provenance", ppa::provenanceName(f.provenance)}, {"note", f.note}};
}

nlohmann::json ppaJson(const ppa::PpaPoint &p)
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
            {"decode_bytes_per_token", number(u.decodeBytesPerToken)}, {"seconds", figureJson(u.seconds)}});
    const nlohmann::json costs
        = {{"params_total", c.paramsTotal}, {"params_kept", c.paramsKept}, {"stored_bytes_by_dtype", byDtype},
            {"stored_bytes", number(c.storedBytes)}, {"compute_bytes", number(c.computeBytes)},
            {"kv_bytes_per_token", number(c.kvBytesPerToken)}, {"activation_peak_bytes", number(c.activationPeakBytes)},
            {"prefill_flops_per_token", number(c.prefillFlopsPerToken)},
            {"prefill_bytes_per_token", number(c.prefillBytesPerToken)},
            {"decode_flops_per_token", number(c.decodeFlopsPerToken)},
            {"decode_bytes_per_token", number(c.decodeBytesPerToken)}, {"units", units}};
    nlohmann::json measured = nullptr;
    if (p.measured) {
        const ppa::Measurement &m = *p.measured;
        measured
            = {{"device", m.device}, {"dtype", m.dtype}, {"threads", m.threads}, {"batch", m.batch}, {"seq", m.seq},
                {"decode_tokens", m.decodeTokens}, {"prefill_tokens_per_second", figureJson(m.prefillTokensPerSecond)},
                {"decode_ms_per_token", figureJson(m.decodeMsPerToken)},
                {"prefill_joules_per_token", figureJson(m.prefillJoulesPerToken)},
                {"decode_joules_per_token", figureJson(m.decodeJoulesPerToken)},
                {"peak_memory_bytes", figureJson(m.peakMemoryBytes)}, {"energy_source", m.energySource}};
    }
    nlohmann::json predictions = nlohmann::json::array();
    for (const auto &q : p.predictions)
        predictions.push_back({{"device", q.device}, {"calibrated", q.calibrated},
            {"prefill_tokens_per_second", number(q.prefillTokensPerSecond)},
            {"decode_ms_per_token", number(q.decodeMsPerToken)},
            {"prefill_joules_per_token", number(q.prefillJoulesPerToken)},
            {"decode_joules_per_token", number(q.decodeJoulesPerToken)},
            {"prefill_compute_bound", q.prefillComputeBound}, {"decode_compute_bound", q.decodeComputeBound},
            {"provenance", ppa::provenanceName(ppa::Provenance::Modelled)}});
    return {{"label", p.label}, {"step", p.step}, {"mask", stepjson::mask(p.mask)},
        {"attention_density", number(p.attentionDensity)}, {"perplexity", number(p.perplexity)},
        {"kl_to_dense", number(p.klToDense)}, {"protocol", p.protocol}, {"costs", costs}, {"measured", measured},
        {"predictions", predictions}};
}

// Shortest text that reads back to the same double; empty for NaN.
std::string csvNumber(double v)
{
    if (std::isnan(v))
        return {};
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

std::string csvField(const std::string &text, bool alwaysQuote = false)
{
    if (!alwaysQuote && text.find_first_of(",\"\r\n") == std::string::npos)
        return text;
    std::string q = "\"";
    for (char c : text)
        q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

std::string fixed(double v, int decimals)
{
    if (std::isnan(v))
        return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string general(double v)
{
    if (std::isnan(v))
        return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.7g", v);
    return buf;
}

std::string optionsLine(const PruneOptions &o)
{
    std::string s;
    const nlohmann::json j = o.toJson(); // items() refers into it: it must outlive the loop
    for (const auto &item : j.items())
        s += (s.empty() ? "" : " ") + item.key() + "="
            + (item.value().is_string() ? item.value().get<std::string>() : item.value().dump());
    return s;
}

// The removal order the steps add up to: the last step's cumulative list where the method keeps
// one, otherwise every chosen unit once, in the order the steps chose them.
std::vector<Unit> removalOrder(const ExperimentRun &run)
{
    if (run.steps.empty())
        return {};
    if (!run.steps.back().removedSoFar.empty())
        return run.steps.back().removedSoFar;
    std::vector<Unit> order;
    std::set<std::pair<int, int>> seen;
    for (const auto &s : run.steps)
        for (const auto &u : s.chosen)
            if (seen.insert({int(u.kind), u.layer}).second)
                order.push_back(u);
    return order;
}

} // namespace

nlohmann::json runToJson(const ExperimentRun &run)
{
    const RunInfo &i = run.info;
    nlohmann::json steps = nlohmann::json::array();
    for (const auto &s : run.steps)
        steps.push_back(stepjson::step(s));
    nlohmann::json points = nlohmann::json::array();
    for (const auto &p : run.ppa)
        points.push_back(ppaJson(p));
    return {{"id", i.id}, {"label", i.label}, {"method", pruneMethodName(i.options.method)},
        {"options", i.options.toJson()}, {"layers", i.layers}, {"model_path", i.modelPath}, {"model_hash", i.modelHash},
        {"calibration_path", i.calibrationPath}, {"calibration_hash", i.calibrationHash},
        {"calibration_protocol", i.calibrationProtocol.toJson()},
        {"evaluation_protocol", i.evaluationProtocol ? i.evaluationProtocol->toJson() : nlohmann::json(nullptr)},
        {"dense_perplexity", number(i.densePerplexity)}, {"started", i.started}, {"status", i.status},
        {"blockscope_version", i.blockscopeVersion}, {"steps", steps}, {"ppa", points}};
}

std::string runToCsv(const ExperimentRun &run)
{
    std::string csv = "index,kind,chosen,score,near_tie,removed_so_far,perplexity,kl_to_dense,evaluations,"
                      "unit_forwards,tokens,seconds\n";
    for (const auto &s : run.steps) {
        csv += std::to_string(s.index) + "," + csvField(s.kind) + "," + csvField(unitsLabel(s.chosen, ";"), true) + ","
            + csvNumber(s.chosenScore) + "," + (s.nearTie ? "1" : "0") + ","
            + csvField(unitsLabel(s.removedSoFar, ";"), true) + "," + csvNumber(s.perplexity) + ","
            + csvNumber(s.klToDense) + "," + std::to_string(s.evaluations) + "," + std::to_string(s.unitForwards) + ","
            + std::to_string(s.tokens) + "," + csvNumber(s.seconds) + "\n";
    }
    return csv;
}

nlohmann::json sweepToJson(const SweepRecord &sweep)
{
    nlohmann::json points = nlohmann::json::array();
    for (const auto &p : sweep.points)
        points.push_back({{"rule", p.rule}, {"rule_kind", p.ruleKind}, {"rule_value", number(p.ruleValue)},
            {"last_block_dense", p.lastBlockDense}, {"perplexity", number(p.perplexity)},
            {"tile_density", number(p.tileDensity)}, {"sparsity", number(1.0 - p.tileDensity)},
            {"pair_density", number(p.pairDensity)}, {"recall_mean", number(p.recallMean)},
            {"recall_p5", number(p.recallP5)}, {"recall_min", number(p.recallMin)}, {"empty_rows", p.emptyRows},
            {"tokens", p.tokens}, {"ppa", ppaJson(p.ppa)}});
    return {{"id", sweep.id}, {"label", sweep.label}, {"masks", sweep.masks}, {"model_path", sweep.modelPath},
        {"model_hash", sweep.modelHash}, {"gates_path", sweep.gatesPath}, {"gates_hash", sweep.gatesHash},
        {"text_path", sweep.textPath}, {"protocol", sweep.protocol}, {"block_size", sweep.blockSize},
        {"dense_perplexity", number(sweep.densePerplexity)}, {"started", sweep.started}, {"points", points}};
}

std::string sweepToCsv(const SweepRecord &sweep)
{
    std::string csv = "rule,kind,value,perplexity,tile_density,sparsity,pair_density,recall_mean,recall_p5,recall_min,"
                      "empty_rows,tokens,params_kept,prefill_flops_per_token,decode_bytes_per_token,"
                      "predicted_device,predicted_prefill_tokens_per_second\n";
    for (const auto &p : sweep.points) {
        const ppa::Prediction *first = p.ppa.predictions.empty() ? nullptr : &p.ppa.predictions.front();
        csv += csvField(p.rule) + "," + csvField(p.ruleKind) + "," + csvNumber(p.ruleValue) + ","
            + csvNumber(p.perplexity) + "," + csvNumber(p.tileDensity) + "," + csvNumber(1.0 - p.tileDensity) + ","
            + csvNumber(p.pairDensity) + "," + csvNumber(p.recallMean) + "," + csvNumber(p.recallP5) + ","
            + csvNumber(p.recallMin) + "," + std::to_string(p.emptyRows) + "," + std::to_string(p.tokens) + ","
            + std::to_string(p.ppa.costs.paramsKept) + "," + csvNumber(p.ppa.costs.prefillFlopsPerToken) + ","
            + csvNumber(p.ppa.costs.decodeBytesPerToken) + "," + (first ? csvField(first->device) : std::string()) + ","
            + (first ? csvNumber(first->prefillTokensPerSecond) : std::string()) + "\n";
    }
    return csv;
}

std::string runReportText(const ExperimentRun &run)
{
    const RunInfo &i = run.info;
    std::ostringstream out;
    out << i.id << (i.label.empty() ? "" : "  " + i.label) << "\n"
        << "  method:       " << pruneMethodName(i.options.method) << "\n"
        << "  model:        " << i.modelPath << " (" << i.layers << " blocks, " << i.modelHash << ")\n"
        << "  calibration:  " << i.calibrationPath << " (" << i.calibrationHash << ")\n"
        << "  status:       " << i.status << (i.started.empty() ? "" : ", started " + i.started) << "\n"
        << "  dense PPL:    " << fixed(i.densePerplexity, 4) << "\n"
        << "  options:      " << optionsLine(i.options) << "\n"
        << "  calibration protocol: " << i.calibrationProtocol.oneLine() << "\n"
        << "  evaluation protocol:  " << (i.evaluationProtocol ? i.evaluationProtocol->oneLine() : "none") << "\n";
    if (!i.blockscopeVersion.empty())
        out << "  written by:   Blockscope " << i.blockscopeVersion << "\n";

    // The table, its columns as wide as their widest cell.
    std::vector<std::vector<std::string>> rows = {{"step", "kind", "removed", "score", "PPL", "KL", "seconds"}};
    for (const auto &s : run.steps)
        rows.push_back({std::to_string(s.index), s.kind, s.chosen.empty() ? "-" : unitsLabel(s.chosen, ", "),
            general(s.chosenScore) + (s.nearTie ? " (near tie)" : ""), fixed(s.perplexity, 4), fixed(s.klToDense, 6),
            fixed(s.seconds, 2)});
    std::vector<std::size_t> widths(rows[0].size(), 0);
    for (const auto &r : rows)
        for (std::size_t c = 0; c < r.size(); ++c)
            widths[c] = std::max(widths[c], r[c].size());
    out << "\n";
    for (const auto &r : rows) {
        std::string line = " ";
        for (std::size_t c = 0; c < r.size(); ++c) {
            const std::string pad(widths[c] - r[c].size(), ' ');
            // Text columns align left, numbers right.
            line += " " + (c == 1 || c == 2 ? r[c] + pad : pad + r[c]);
        }
        line.erase(line.find_last_not_of(' ') + 1);
        out << line << "\n";
    }
    out << "\n";
    if (run.steps.empty()) {
        out << "no steps recorded\n";
        return out.str();
    }
    const auto order = removalOrder(run);
    out << "removal order: " << (order.empty() ? "none" : unitsLabel(order, ", ")) << "\n";
    out << "final configuration: " << run.steps.back().mask.describe() << "\n";
    return out.str();
}

} // namespace blockscope
