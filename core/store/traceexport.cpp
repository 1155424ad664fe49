#include "traceexport.h"

#include "ppajson.h"
#include "stepjson.h"

#include "common/csv.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

namespace blockscope {

namespace {

using stepjson::number;

using csv::field;
constexpr auto csvNumber = [](double v) { return csv::number(v); };

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
        points.push_back(ppaPointJson(p));
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
        csv += std::to_string(s.index) + "," + field(s.kind) + "," + field(unitsLabel(s.chosen, ";"), true) + ","
            + csvNumber(s.chosenScore) + "," + (s.nearTie ? "1" : "0") + ","
            + field(unitsLabel(s.removedSoFar, ";"), true) + "," + csvNumber(s.perplexity) + ","
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
            {"tokens", p.tokens}, {"ppa", ppaPointJson(p.ppa)}});
    return {{"id", sweep.id}, {"label", sweep.label}, {"masks", sweep.masks}, {"model_path", sweep.modelPath},
        {"model_hash", sweep.modelHash}, {"gates_path", sweep.gatesPath}, {"gates_hash", sweep.gatesHash},
        {"text_path", sweep.textPath}, {"protocol", sweep.protocol}, {"block_size", sweep.blockSize},
        {"dense_perplexity", number(sweep.densePerplexity)}, {"started", sweep.started}, {"points", points}};
}

namespace {
const char *sweepCsvHeader = "rule,kind,value,perplexity,tile_density,sparsity,pair_density,recall_mean,recall_p5,"
                             "recall_min,empty_rows,tokens,params_kept,prefill_flops_per_token,decode_bytes_per_token,"
                             "predicted_device,predicted_prefill_tokens_per_second\n";

std::string sweepCsvRow(const SweepPoint &p)
{
    const ppa::Prediction *first = p.ppa.predictions.empty() ? nullptr : &p.ppa.predictions.front();
    return field(p.rule) + "," + field(p.ruleKind) + "," + csvNumber(p.ruleValue) + "," + csvNumber(p.perplexity) + ","
        + csvNumber(p.tileDensity) + "," + csvNumber(1.0 - p.tileDensity) + "," + csvNumber(p.pairDensity) + ","
        + csvNumber(p.recallMean) + "," + csvNumber(p.recallP5) + "," + csvNumber(p.recallMin) + ","
        + std::to_string(p.emptyRows) + "," + std::to_string(p.tokens) + "," + std::to_string(p.ppa.costs.paramsKept)
        + "," + csvNumber(p.ppa.costs.prefillFlopsPerToken) + "," + csvNumber(p.ppa.costs.decodeBytesPerToken) + ","
        + (first ? field(first->device) : std::string()) + ","
        + (first ? csvNumber(first->prefillTokensPerSecond) : std::string()) + "\n";
}
} // namespace

std::string sweepToCsv(const SweepRecord &sweep)
{
    std::string csv = sweepCsvHeader;
    for (const auto &p : sweep.points)
        csv += sweepCsvRow(p);
    return csv;
}

std::string sweepsToCsv(const std::vector<SweepRecord> &sweeps)
{
    std::string csv = std::string("series,") + sweepCsvHeader;
    for (const SweepRecord &s : sweeps)
        for (const auto &p : s.points)
            csv += field(s.label.empty() ? s.id : s.label) + "," + sweepCsvRow(p);
    return csv;
}

SweepPoint sweepPointOf(const sparse::SparseEvalResult &e)
{
    SweepPoint p;
    p.rule = e.rule.describe();
    p.ruleKind = e.rule.kind == sparse::MaskRule::Kind::Density ? "density" : "threshold";
    p.ruleValue = e.rule.value;
    p.lastBlockDense = e.rule.lastBlockDense;
    p.perplexity = e.perplexity;
    p.tileDensity = e.mean.tileDensity;
    p.pairDensity = e.mean.pairDensity;
    p.recallMean = e.mean.recallMean;
    p.recallP5 = e.mean.recallP5;
    p.recallMin = e.mean.recallMin;
    p.emptyRows = e.mean.emptyRows;
    p.tokens = e.tokens;
    p.ppa = e.ppa;
    return p;
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
