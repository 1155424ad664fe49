// Sparsity sweeps in the experiment file: /sweeps/sweep-NNNN, one row per point in columns, each
// row's PPA point under ppa/point-NNN (README, "Experiment file format").
#include "experimentsweeps.h"

#include "common/formaterror.h"
#include "experimentppa.h"
#include "numberednames.h"

#include <algorithm>

namespace blockscope::sweepstore {

namespace {

using h5::read1;

using h5::Location;

bool knownRuleKind(const std::string &kind)
{
    return kind == "density" || kind == "threshold";
}

std::string sweepName(int number)
{
    return h5::numberedName("sweep-", number, 4);
}

// "sweep-0012" -> 12; -1 when the name is not a sweep id.
int sweepNumber(const std::string &name)
{
    return h5::nameNumber(name, "sweep-", 4);
}

template<class T>
std::vector<T> readColumn(const Location &at, const std::string &name, std::size_t rows)
{
    auto values = read1<T>(at, name);
    if (values.size() != rows)
        at.fail(at.child(name), "has " + std::to_string(values.size()) + " values, expected " + std::to_string(rows),
            false);
    return values;
}

SweepRecord readSweep(const Location &sweeps, const std::string &id)
{
    const h5::Group g = sweeps.openGroup(id);
    const Location at = sweeps.at(g, id);
    SweepRecord s;
    s.id = id;
    s.label = h5::readStringAttribute(at, "label");
    s.masks = h5::readStringAttribute(at, "masks");
    s.modelPath = h5::readStringAttribute(at, "model_path");
    s.modelHash = h5::readStringAttribute(at, "model_hash");
    s.gatesPath = h5::readStringAttribute(at, "gates_path");
    s.gatesHash = h5::readStringAttribute(at, "gates_hash");
    s.textPath = h5::readStringAttribute(at, "text_path");
    s.protocol = h5::readStringAttribute(at, "protocol");
    s.started = h5::readStringAttribute(at, "started");
    s.blockSize = h5::readAttribute<std::int32_t>(at, "block_size");
    if (s.blockSize < 0)
        at.fail(at.path + "@block_size", "must be >= 0, got " + std::to_string(s.blockSize), false);
    s.densePerplexity = h5::readAttribute<double>(at, "dense_perplexity");
    const int layers = h5::readAttribute<std::int32_t>(at, "layers");
    if (layers < 0)
        at.fail(at.path + "@layers", "must be >= 0, got " + std::to_string(layers), false);

    const auto rules = ppastore::readStrings(at, "rule");
    const std::size_t n = rules.size();
    const auto kinds = ppastore::readStrings(at, "rule_kind");
    if (kinds.size() != n)
        at.fail(at.child("rule_kind"), "has " + std::to_string(kinds.size()) + " values, expected " + std::to_string(n),
            false);
    const auto values = readColumn<double>(at, "rule_value", n);
    const auto lastDense = readColumn<std::uint8_t>(at, "last_block_dense", n);
    const auto perplexity = readColumn<double>(at, "perplexity", n);
    const auto tileDensity = readColumn<double>(at, "tile_density", n);
    const auto pairDensity = readColumn<double>(at, "pair_density", n);
    const auto recallMean = readColumn<double>(at, "recall_mean", n);
    const auto recallP5 = readColumn<double>(at, "recall_p5", n);
    const auto recallMin = readColumn<double>(at, "recall_min", n);
    const auto emptyRows = readColumn<std::int64_t>(at, "empty_rows", n);
    const auto tokens = readColumn<std::int64_t>(at, "tokens", n);
    if (!at.hasLink("ppa"))
        at.fail(at.child("ppa"), "missing group", false);
    auto points = ppastore::readPoints(at, layers);
    if (points.size() != n)
        at.fail(at.child("ppa"),
            "has " + std::to_string(points.size()) + " points, expected " + std::to_string(n) + " (one per row)",
            false);
    for (std::size_t i = 0; i < n; ++i) {
        if (!knownRuleKind(kinds[i]))
            at.fail(at.child("rule_kind"),
                "row " + std::to_string(i) + ": \"" + kinds[i] + "\" is neither \"density\" nor \"threshold\"", false);
        if (lastDense[i] > 1)
            at.fail(at.child("last_block_dense"), "values must be 0 or 1, got " + std::to_string(lastDense[i]), false);
        SweepPoint p;
        p.rule = rules[i];
        p.ruleKind = kinds[i];
        p.ruleValue = values[i];
        p.lastBlockDense = lastDense[i] == 1;
        p.perplexity = perplexity[i];
        p.tileDensity = tileDensity[i];
        p.pairDensity = pairDensity[i];
        p.recallMean = recallMean[i];
        p.recallP5 = recallP5[i];
        p.recallMin = recallMin[i];
        p.emptyRows = emptyRows[i];
        p.tokens = tokens[i];
        p.ppa = std::move(points[i]);
        s.points.push_back(std::move(p));
    }
    return s;
}

} // namespace

int checkSweep(const SweepRecord &sweep, const std::string &where)
{
    if (sweep.blockSize < 0)
        throw UsageError(where + ": a sweep's block size must be >= 0, got " + std::to_string(sweep.blockSize));
    // The block count: the length of the points' masks, else what their unit costs reach.
    int layers = -1;
    int unitLayers = 0;
    std::vector<ppa::PpaPoint> points;
    for (std::size_t i = 0; i < sweep.points.size(); ++i) {
        const SweepPoint &p = sweep.points[i];
        if (!knownRuleKind(p.ruleKind))
            throw UsageError(where + ", sweep point " + std::to_string(i) + " (\"" + p.rule + "\"): rule kind \""
                + p.ruleKind + "\" is neither \"density\" nor \"threshold\"");
        if (layers < 0 && !(p.ppa.mask.skipAttn.empty() && p.ppa.mask.skipMlp.empty()))
            layers = static_cast<int>(std::max(p.ppa.mask.skipAttn.size(), p.ppa.mask.skipMlp.size()));
        for (const auto &u : p.ppa.costs.units)
            unitLayers = std::max(unitLayers, u.layer + 1);
        points.push_back(p.ppa);
    }
    if (layers < 0)
        layers = unitLayers;
    ppastore::checkPoints(points, layers, where);
    return layers;
}

std::string addSweep(const Location &root, const SweepRecord &sweep, int layers)
{
    const h5::Group sweepsGroup = root.hasLink("sweeps") ? root.openGroup("sweeps") : root.createGroup("sweeps");
    const Location sweeps = root.at(sweepsGroup, "sweeps");
    int last = 0;
    for (const auto &name : sweeps.children())
        last = std::max(last, sweepNumber(name));
    const std::string id = sweepName(last + 1);
    const h5::Group g = sweeps.createGroup(id);
    const Location at = sweeps.at(g, id);
    h5::writeAttribute(at, "label", sweep.label);
    h5::writeAttribute(at, "masks", sweep.masks);
    h5::writeAttribute(at, "model_path", sweep.modelPath);
    h5::writeAttribute(at, "model_hash", sweep.modelHash);
    h5::writeAttribute(at, "gates_path", sweep.gatesPath);
    h5::writeAttribute(at, "gates_hash", sweep.gatesHash);
    h5::writeAttribute(at, "text_path", sweep.textPath);
    h5::writeAttribute(at, "protocol", sweep.protocol);
    h5::writeAttribute(at, "started", sweep.started);
    h5::writeAttribute(at, "block_size", std::int32_t(sweep.blockSize));
    h5::writeAttribute(at, "dense_perplexity", sweep.densePerplexity);
    h5::writeAttribute(at, "layers", std::int32_t(layers));

    std::vector<std::string> rules, kinds;
    std::vector<double> values, perplexity, tileDensity, pairDensity, recallMean, recallP5, recallMin;
    std::vector<std::uint8_t> lastDense;
    std::vector<std::int64_t> emptyRows, tokens;
    std::vector<ppa::PpaPoint> points;
    for (const SweepPoint &p : sweep.points) {
        rules.push_back(p.rule);
        kinds.push_back(p.ruleKind);
        values.push_back(p.ruleValue);
        lastDense.push_back(p.lastBlockDense ? 1 : 0);
        perplexity.push_back(p.perplexity);
        tileDensity.push_back(p.tileDensity);
        pairDensity.push_back(p.pairDensity);
        recallMean.push_back(p.recallMean);
        recallP5.push_back(p.recallP5);
        recallMin.push_back(p.recallMin);
        emptyRows.push_back(p.emptyRows);
        tokens.push_back(p.tokens);
        points.push_back(p.ppa);
    }
    const std::vector<hsize_t> n = {static_cast<hsize_t>(sweep.points.size())};
    ppastore::writeStrings(at, "rule", rules);
    ppastore::writeStrings(at, "rule_kind", kinds);
    h5::writeDataset(at, "rule_value", n, values);
    h5::writeDataset(at, "last_block_dense", n, lastDense);
    h5::writeDataset(at, "perplexity", n, perplexity);
    h5::writeDataset(at, "tile_density", n, tileDensity);
    h5::writeDataset(at, "pair_density", n, pairDensity);
    h5::writeDataset(at, "recall_mean", n, recallMean);
    h5::writeDataset(at, "recall_p5", n, recallP5);
    h5::writeDataset(at, "recall_min", n, recallMin);
    h5::writeDataset(at, "empty_rows", n, emptyRows);
    h5::writeDataset(at, "tokens", n, tokens);
    ppastore::writePoints(at, points);
    return id;
}

std::vector<SweepRecord> readSweeps(const Location &root)
{
    if (!root.hasLink("sweeps"))
        return {};
    const h5::Group g = root.openGroup("sweeps");
    const Location sweeps = root.at(g, "sweeps");
    std::vector<SweepRecord> result;
    for (const auto &id : h5::numberedChildren(sweeps, "sweep-", 4, "sweep (expected sweep-NNNN)", false))
        result.push_back(readSweep(sweeps, id));
    return result;
}

} // namespace blockscope::sweepstore
