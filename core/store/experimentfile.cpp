// The experiment file's HDF5 layout (README, "Experiment file format"); writes go through
// experimenttransaction.
#include "experimentfile.h"

#include "common/formaterror.h"
#include "experimentjournal.h"
#include "experimentlock.h"
#include "experimentppa.h"
#include "experimentsweeps.h"
#include "experimenttransaction.h"
#include "h5handles.h"
#include "log/logging.h"
#include "stepjson.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>

namespace blockscope {

namespace {

namespace fs = std::filesystem;
using h5::Location;
using h5tx::checkRoot;
using h5tx::fileAccess;
using h5tx::ioMutex;
using h5tx::quietHdf5;
using h5tx::transaction;

const std::set<std::string> statuses = {"running", "complete", "cancelled", "failed"};

std::string runName(int number)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "run-%04d", number);
    return buf;
}

std::string stepName(int index)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%06d", index);
    return buf;
}

// "run-0012" -> 12; -1 when the name is not a run id.
int runNumber(const std::string &name)
{
    if (name.size() < 8 || name.compare(0, 4, "run-") != 0 || name.size() > 13)
        return -1;
    int n = 0;
    for (std::size_t i = 4; i < name.size(); ++i) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        n = n * 10 + (name[i] - '0');
    }
    return runName(n) == name ? n : -1;
}

// "000042" -> 42; -1 when the name is not a step group.
int stepNumber(const std::string &name)
{
    if (name.size() < 6 || name.size() > 9)
        return -1;
    int n = 0;
    for (char c : name) {
        if (c < '0' || c > '9')
            return -1;
        n = n * 10 + (c - '0');
    }
    return stepName(n) == name ? n : -1;
}

// --- writing --------------------------------------------------------------------------------

std::vector<hsize_t> dims1(std::size_t n)
{
    return {static_cast<hsize_t>(n)};
}

std::vector<std::uint8_t> bits(const std::vector<bool> &v)
{
    return std::vector<std::uint8_t>(v.begin(), v.end());
}

void writeUnits(const Location &at, const std::string &prefix, const std::vector<Unit> &units)
{
    std::vector<std::int8_t> kinds;
    std::vector<std::int32_t> layers;
    for (const auto &u : units) {
        kinds.push_back(static_cast<std::int8_t>(u.kind));
        layers.push_back(u.layer);
    }
    h5::writeDataset(at, prefix + "_kind", dims1(units.size()), kinds);
    h5::writeDataset(at, prefix + "_layer", dims1(units.size()), layers);
}

void writeMask(const Location &at, const std::string &prefix, const UnitMask &mask)
{
    h5::writeDataset(at, prefix + "_attn", dims1(mask.skipAttn.size()), bits(mask.skipAttn));
    h5::writeDataset(at, prefix + "_mlp", dims1(mask.skipMlp.size()), bits(mask.skipMlp));
}

// Several masks of L layers as two [n, L] datasets.
void writeMasks(const Location &at, const std::string &prefix, const std::vector<const UnitMask *> &masks, int layers)
{
    std::vector<std::uint8_t> attn, mlp;
    for (const UnitMask *m : masks) {
        attn.insert(attn.end(), m->skipAttn.begin(), m->skipAttn.end());
        mlp.insert(mlp.end(), m->skipMlp.begin(), m->skipMlp.end());
    }
    const std::vector<hsize_t> dims = {masks.size(), static_cast<hsize_t>(layers)};
    h5::writeDataset(at, prefix + "_attn", dims, attn);
    h5::writeDataset(at, prefix + "_mlp", dims, mlp);
}

void writeEvo(const Location &at, const EvoGeneration &evo, int layers)
{
    h5::writeAttribute(at, "parent_fitness", evo.parentFitness);
    h5::writeAttribute(at, "parent_rescored", evo.parentRescored);
    h5::writeAttribute(at, "winner_is_parent", std::uint8_t(evo.winnerIsParent));
    h5::writeAttribute(at, "rejected_draws", std::int64_t(evo.rejectedDraws));
    h5::writeAttribute(at, "rejection_cap_hit", std::uint8_t(evo.rejectionCapHit));
    h5::writeAttribute(at, "stage_sequence_count", std::int32_t(evo.stageSequences.size()));
    writeMask(at, "parent", evo.parent);

    std::vector<const UnitMask *> genomes;
    std::vector<double> stage1, final;
    std::vector<std::int32_t> swapCount, swaps;
    for (std::size_t i = 0; i < evo.offspring.size(); ++i) {
        const auto &c = evo.offspring[i];
        genomes.push_back(&c.genome);
        stage1.push_back(c.stage1Fitness);
        final.push_back(c.finalFitness);
        swapCount.push_back(static_cast<std::int32_t>(c.swaps.size()));
        for (const auto &s : c.swaps)
            swaps.insert(
                swaps.end(), {static_cast<std::int32_t>(i), static_cast<std::int32_t>(s.kind), s.removed, s.restored});
    }
    writeMasks(at, "offspring", genomes, layers);
    h5::writeDataset(at, "offspring_stage1", dims1(stage1.size()), stage1);
    h5::writeDataset(at, "offspring_final", dims1(final.size()), final);
    h5::writeDataset(at, "offspring_swap_count", dims1(swapCount.size()), swapCount);
    h5::writeDataset(at, "offspring_swaps", {swaps.size() / 4, 4}, swaps);

    h5::writeDataset(at, "stage_tokens", dims1(evo.stageTokens.size()), evo.stageTokens);
    for (std::size_t s = 0; s < evo.stageSequences.size(); ++s)
        h5::writeDataset(
            at, "stage_sequences_" + std::to_string(s), dims1(evo.stageSequences[s].size()), evo.stageSequences[s]);

    std::vector<const UnitMask *> population;
    for (const auto &m : evo.population)
        population.push_back(&m);
    writeMasks(at, "population", population, layers);
    h5::writeDataset(at, "population_fitness", dims1(evo.populationFitness.size()), evo.populationFitness);
}

void writeStep(const Location &at, const TraceStep &step, int layers)
{
    h5::writeAttribute(at, "index", std::int32_t(step.index));
    h5::writeAttribute(at, "kind", step.kind);
    h5::writeAttribute(at, "chosen_score", step.chosenScore);
    h5::writeAttribute(at, "near_tie", std::uint8_t(step.nearTie));
    h5::writeAttribute(at, "readmitted", std::uint8_t(step.readmitted));
    h5::writeAttribute(at, "evaluations", std::int64_t(step.evaluations));
    h5::writeAttribute(at, "unit_forwards", std::int64_t(step.unitForwards));
    h5::writeAttribute(at, "tokens", std::int64_t(step.tokens));
    h5::writeAttribute(at, "seconds", step.seconds);
    h5::writeAttribute(at, "perplexity", step.perplexity);
    h5::writeAttribute(at, "kl_to_dense", step.klToDense);
    h5::writeAttribute(at, "rng_state", step.rngState);

    writeUnits(at, "chosen", step.chosen);
    writeUnits(at, "removed", step.removedSoFar);
    std::vector<Unit> candidateUnits;
    std::vector<std::int32_t> positions;
    std::vector<double> scores;
    for (const auto &c : step.candidates) {
        candidateUnits.push_back(c.unit);
        positions.push_back(c.position);
        scores.push_back(c.score);
    }
    writeUnits(at, "candidate", candidateUnits);
    h5::writeDataset(at, "candidate_position", dims1(positions.size()), positions);
    h5::writeDataset(at, "candidate_score", dims1(scores.size()), scores);
    writeMask(at, "skip", step.mask);
    h5::writeDataset(at, "block_scores", dims1(step.blockScores.size()), step.blockScores);
    const hsize_t side = step.distanceMatrix.empty() ? 0 : static_cast<hsize_t>(layers + 1);
    h5::writeDataset(at, "distance_matrix", {side, side}, step.distanceMatrix);

    if (step.hasEvo) {
        h5::Group evo = at.createGroup("evo");
        writeEvo(at.at(evo, "evo"), step.evo, layers);
    }
}

void writeInfo(const Location &at, const RunInfo &info)
{
    h5::writeAttribute(at, "label", info.label);
    h5::writeAttribute(at, "method", pruneMethodName(info.options.method));
    h5::writeAttribute(at, "options_json", info.options.toJson().dump());
    h5::writeAttribute(at, "layers", std::int32_t(info.layers));
    h5::writeAttribute(at, "model_path", info.modelPath);
    h5::writeAttribute(at, "model_hash", info.modelHash);
    h5::writeAttribute(at, "calibration_path", info.calibrationPath);
    h5::writeAttribute(at, "calibration_hash", info.calibrationHash);
    h5::writeAttribute(at, "calibration_protocol_json", info.calibrationProtocol.toJson().dump());
    if (info.evaluationProtocol)
        h5::writeAttribute(at, "evaluation_protocol_json", info.evaluationProtocol->toJson().dump());
    h5::writeAttribute(at, "dense_perplexity", info.densePerplexity);
    h5::writeAttribute(at, "started", info.started);
    h5::writeAttribute(at, "status", info.status);
    h5::writeAttribute(at, "blockscope_version", info.blockscopeVersion);
}

// What the layout cannot hold, or what read() would refuse, is refused before anything is written.
void checkStep(const TraceStep &step, int layers, const std::string &where)
{
    const auto fail = [&](const std::string &what) {
        throw UsageError(where + ", step " + std::to_string(step.index) + ": " + what);
    };
    const auto checkMask = [&](const UnitMask &m, const std::string &what, bool mayBeEmpty) {
        const bool empty = m.skipAttn.empty() && m.skipMlp.empty();
        if (!(mayBeEmpty && empty)
            && (m.skipAttn.size() != std::size_t(layers) || m.skipMlp.size() != std::size_t(layers)))
            fail(what + " has " + std::to_string(m.skipAttn.size()) + " attention and "
                + std::to_string(m.skipMlp.size()) + " MLP bits for a " + std::to_string(layers) + "-layer run");
    };
    const auto checkUnit = [&](const Unit &u, const std::string &what) {
        if (u.layer < 0 || u.layer >= layers || static_cast<int>(u.kind) < 0 || static_cast<int>(u.kind) > 2)
            fail(what + " " + u.label() + " is outside a " + std::to_string(layers) + "-layer run");
    };
    if (step.index < 0)
        fail("a step index must be >= 0");
    checkMask(step.mask, "the mask", false);
    for (const auto &u : step.chosen)
        checkUnit(u, "chosen unit");
    for (const auto &u : step.removedSoFar)
        checkUnit(u, "removed unit");
    for (const auto &c : step.candidates)
        checkUnit(c.unit, "candidate");
    if (!step.blockScores.empty() && step.blockScores.size() != std::size_t(layers))
        fail("block scores need one value per block (" + std::to_string(layers) + "), got "
            + std::to_string(step.blockScores.size()));
    const std::size_t side = std::size_t(layers) + 1;
    if (!step.distanceMatrix.empty() && step.distanceMatrix.size() != side * side)
        fail("the distance matrix needs " + std::to_string(side * side) + " values, got "
            + std::to_string(step.distanceMatrix.size()));
    if (!step.hasEvo)
        return;
    checkMask(step.evo.parent, "the EvoPress parent", true);
    for (const auto &c : step.evo.offspring) {
        checkMask(c.genome, "an EvoPress offspring", false);
        for (const auto &s : c.swaps) {
            const std::string swap = "an EvoPress swap (" + unitKindName(s.kind) + " " + std::to_string(s.removed)
                + " removed, " + std::to_string(s.restored) + " restored)";
            if (s.kind != UnitKind::Attention && s.kind != UnitKind::Mlp)
                fail(swap + " must swap attn or mlp positions");
            if (s.removed < 0 || s.removed >= layers || s.restored < 0 || s.restored >= layers)
                fail(swap + " is outside a " + std::to_string(layers) + "-layer run");
        }
    }
    for (const auto &m : step.evo.population)
        checkMask(m, "an EvoPress population genome", false);
}

// --- reading --------------------------------------------------------------------------------

template<class T>
std::vector<T> read1(const Location &at, const std::string &name)
{
    std::vector<hsize_t> dims;
    return h5::readDataset<T>(at, name, 1, dims);
}

bool readFlag(const Location &at, const std::string &name)
{
    const auto v = h5::readAttribute<std::uint8_t>(at, name);
    if (v > 1)
        at.fail(at.path + "@" + name, "must be 0 or 1, got " + std::to_string(v), false);
    return v == 1;
}

std::vector<bool> readBits(const Location &at, const std::string &name, const std::vector<std::uint8_t> &v)
{
    for (auto b : v)
        if (b > 1)
            at.fail(at.child(name), "mask values must be 0 or 1, got " + std::to_string(b), false);
    return std::vector<bool>(v.begin(), v.end());
}

void requireLength(const Location &at, const std::string &name, std::size_t actual, std::size_t expected)
{
    if (actual != expected)
        at.fail(
            at.child(name), "has " + std::to_string(actual) + " values, expected " + std::to_string(expected), false);
}

UnitKind unitKindFrom(const Location &at, const std::string &name, int value)
{
    if (value < 0 || value > 2)
        at.fail(at.child(name), "unit kind " + std::to_string(value) + " is not 0 (block), 1 (attn) or 2 (mlp)", false);
    return static_cast<UnitKind>(value);
}

std::vector<Unit> readUnits(const Location &at, const std::string &prefix, int layers)
{
    const auto kinds = read1<std::int8_t>(at, prefix + "_kind");
    const auto layerIds = read1<std::int32_t>(at, prefix + "_layer");
    requireLength(at, prefix + "_layer", layerIds.size(), kinds.size());
    std::vector<Unit> units;
    for (std::size_t i = 0; i < kinds.size(); ++i) {
        if (layerIds[i] < 0 || layerIds[i] >= layers)
            at.fail(at.child(prefix + "_layer"),
                "layer " + std::to_string(layerIds[i]) + " is outside a " + std::to_string(layers) + "-layer run",
                false);
        units.push_back({unitKindFrom(at, prefix + "_kind", kinds[i]), layerIds[i]});
    }
    return units;
}

UnitMask readMask(const Location &at, const std::string &prefix, int layers, bool mayBeEmpty)
{
    const auto attn = read1<std::uint8_t>(at, prefix + "_attn");
    const auto mlp = read1<std::uint8_t>(at, prefix + "_mlp");
    const std::size_t expected = mayBeEmpty && attn.empty() ? 0 : std::size_t(layers);
    requireLength(at, prefix + "_attn", attn.size(), expected);
    requireLength(at, prefix + "_mlp", mlp.size(), expected);
    return {readBits(at, prefix + "_attn", attn), readBits(at, prefix + "_mlp", mlp)};
}

// Two [n, L] datasets back into n masks.
std::vector<UnitMask> readMasks(const Location &at, const std::string &prefix, int layers)
{
    std::vector<hsize_t> attnDims, mlpDims;
    const auto attn = h5::readDataset<std::uint8_t>(at, prefix + "_attn", 2, attnDims);
    const auto mlp = h5::readDataset<std::uint8_t>(at, prefix + "_mlp", 2, mlpDims);
    if (attnDims[1] != hsize_t(layers))
        at.fail(at.child(prefix + "_attn"),
            "has rows of " + std::to_string(attnDims[1]) + ", expected " + std::to_string(layers), false);
    if (mlpDims != attnDims)
        at.fail(at.child(prefix + "_mlp"), "shape differs from " + prefix + "_attn", false);
    readBits(at, prefix + "_attn", attn);
    readBits(at, prefix + "_mlp", mlp);
    std::vector<UnitMask> masks;
    for (hsize_t i = 0; i < attnDims[0]; ++i) {
        const auto from = static_cast<std::ptrdiff_t>(i * layers), to = from + layers;
        masks.push_back({std::vector<bool>(attn.begin() + from, attn.begin() + to),
            std::vector<bool>(mlp.begin() + from, mlp.begin() + to)});
    }
    return masks;
}

EvoGeneration readEvo(const Location &at, int layers)
{
    EvoGeneration evo;
    evo.parentFitness = h5::readAttribute<double>(at, "parent_fitness");
    evo.parentRescored = h5::readAttribute<double>(at, "parent_rescored");
    evo.winnerIsParent = readFlag(at, "winner_is_parent");
    evo.rejectedDraws = h5::readAttribute<std::int64_t>(at, "rejected_draws");
    evo.rejectionCapHit = readFlag(at, "rejection_cap_hit");
    evo.parent = readMask(at, "parent", layers, true);

    const auto genomes = readMasks(at, "offspring", layers);
    const auto stage1 = read1<double>(at, "offspring_stage1");
    const auto final = read1<double>(at, "offspring_final");
    const auto swapCount = read1<std::int32_t>(at, "offspring_swap_count");
    requireLength(at, "offspring_stage1", stage1.size(), genomes.size());
    requireLength(at, "offspring_final", final.size(), genomes.size());
    requireLength(at, "offspring_swap_count", swapCount.size(), genomes.size());
    std::vector<hsize_t> swapDims;
    const auto swaps = h5::readDataset<std::int32_t>(at, "offspring_swaps", 2, swapDims);
    if (swapDims[1] != 4)
        at.fail(at.child("offspring_swaps"), "rows must hold 4 values, got " + std::to_string(swapDims[1]), false);
    for (std::size_t i = 0; i < genomes.size(); ++i)
        evo.offspring.push_back({genomes[i], {}, stage1[i], final[i]});
    for (hsize_t r = 0; r < swapDims[0]; ++r) {
        const std::int32_t *row = swaps.data() + 4 * r;
        const auto bad = [&](const std::string &why) {
            at.fail(at.child("offspring_swaps"), "row " + std::to_string(r) + ": " + why, false);
        };
        if (row[0] < 0 || std::size_t(row[0]) >= genomes.size())
            bad("offspring " + std::to_string(row[0]) + " does not exist");
        if (row[1] != int(UnitKind::Attention) && row[1] != int(UnitKind::Mlp))
            bad("kind " + std::to_string(row[1]) + " is not 1 (attn) or 2 (mlp)");
        if (row[2] < 0 || row[2] >= layers || row[3] < 0 || row[3] >= layers)
            bad("positions are outside a " + std::to_string(layers) + "-layer run");
        evo.offspring[row[0]].swaps.push_back({static_cast<UnitKind>(row[1]), row[2], row[3]});
    }
    for (std::size_t i = 0; i < genomes.size(); ++i)
        if (evo.offspring[i].swaps.size() != std::size_t(std::max(0, swapCount[i])))
            at.fail(at.child("offspring_swap_count"),
                "offspring " + std::to_string(i) + " lists " + std::to_string(swapCount[i]) + " swaps, "
                    + "offspring_swaps has " + std::to_string(evo.offspring[i].swaps.size()),
                false);

    evo.stageTokens = read1<std::int64_t>(at, "stage_tokens");
    const auto stages = h5::readAttribute<std::int32_t>(at, "stage_sequence_count");
    if (stages < 0)
        at.fail(at.path + "@stage_sequence_count", "must be >= 0", false);
    for (int s = 0; s < stages; ++s)
        evo.stageSequences.push_back(read1<std::int64_t>(at, "stage_sequences_" + std::to_string(s)));
    evo.population = readMasks(at, "population", layers);
    evo.populationFitness = read1<double>(at, "population_fitness");
    return evo;
}

TraceStep readStep(const Location &at, int layers)
{
    TraceStep step;
    step.index = h5::readAttribute<std::int32_t>(at, "index");
    step.kind = h5::readStringAttribute(at, "kind");
    step.chosenScore = h5::readAttribute<double>(at, "chosen_score");
    step.nearTie = readFlag(at, "near_tie");
    step.readmitted = readFlag(at, "readmitted");
    step.evaluations = h5::readAttribute<std::int64_t>(at, "evaluations");
    step.unitForwards = h5::readAttribute<std::int64_t>(at, "unit_forwards");
    step.tokens = h5::readAttribute<std::int64_t>(at, "tokens");
    step.seconds = h5::readAttribute<double>(at, "seconds");
    step.perplexity = h5::readAttribute<double>(at, "perplexity");
    step.klToDense = h5::readAttribute<double>(at, "kl_to_dense");
    step.rngState = h5::readStringAttribute(at, "rng_state");

    step.chosen = readUnits(at, "chosen", layers);
    step.removedSoFar = readUnits(at, "removed", layers);
    const auto candidates = readUnits(at, "candidate", layers);
    const auto positions = read1<std::int32_t>(at, "candidate_position");
    const auto scores = read1<double>(at, "candidate_score");
    requireLength(at, "candidate_position", positions.size(), candidates.size());
    requireLength(at, "candidate_score", scores.size(), candidates.size());
    for (std::size_t i = 0; i < candidates.size(); ++i)
        step.candidates.push_back({candidates[i], scores[i], positions[i]});
    step.mask = readMask(at, "skip", layers, false);
    step.blockScores = read1<double>(at, "block_scores");
    if (!step.blockScores.empty())
        requireLength(at, "block_scores", step.blockScores.size(), std::size_t(layers));
    std::vector<hsize_t> dims;
    step.distanceMatrix = h5::readDataset<double>(at, "distance_matrix", 2, dims);
    const hsize_t side = layers + 1;
    if (!step.distanceMatrix.empty() && (dims[0] != side || dims[1] != side))
        at.fail(at.child("distance_matrix"),
            "has shape [" + std::to_string(dims[0]) + ", " + std::to_string(dims[1]) + "], expected ["
                + std::to_string(side) + ", " + std::to_string(side) + "]",
            false);

    step.hasEvo = at.hasLink("evo");
    if (step.hasEvo) {
        const h5::Group evo = at.openGroup("evo");
        step.evo = readEvo(at.at(evo, "evo"), layers);
    }
    return step;
}

template<class Parse>
auto parseJsonAttribute(const Location &at, const std::string &name, Parse parse)
{
    const std::string text = h5::readStringAttribute(at, name);
    try {
        return parse(nlohmann::json::parse(text));
    } catch (const std::exception &e) {
        at.fail(at.path + "@" + name, e.what(), false);
    }
}

RunInfo readInfo(const Location &at, const std::string &id)
{
    RunInfo info;
    info.id = id;
    info.label = h5::readStringAttribute(at, "label");
    info.options
        = parseJsonAttribute(at, "options_json", [](const nlohmann::json &j) { return PruneOptions::fromJson(j); });
    const std::string method = h5::readStringAttribute(at, "method");
    if (method != pruneMethodName(info.options.method))
        at.fail(at.path + "@method",
            "\"" + method + "\" disagrees with options_json (\"" + pruneMethodName(info.options.method) + "\")", false);
    info.layers = h5::readAttribute<std::int32_t>(at, "layers");
    if (info.layers < 1)
        at.fail(at.path + "@layers", "must be >= 1, got " + std::to_string(info.layers), false);
    info.modelPath = h5::readStringAttribute(at, "model_path");
    info.modelHash = h5::readStringAttribute(at, "model_hash");
    info.calibrationPath = h5::readStringAttribute(at, "calibration_path");
    info.calibrationHash = h5::readStringAttribute(at, "calibration_hash");
    const auto protocol = [](const nlohmann::json &j) { return Protocol::fromJson(j); };
    info.calibrationProtocol = parseJsonAttribute(at, "calibration_protocol_json", protocol);
    if (at.hasAttribute("evaluation_protocol_json"))
        info.evaluationProtocol = parseJsonAttribute(at, "evaluation_protocol_json", protocol);
    info.densePerplexity = h5::readAttribute<double>(at, "dense_perplexity");
    info.started = h5::readStringAttribute(at, "started");
    info.status = h5::readStringAttribute(at, "status");
    info.blockscopeVersion = h5::readStringAttribute(at, "blockscope_version");
    return info;
}

ExperimentRun readRun(const Location &runs, const std::string &id)
{
    const h5::Group g = runs.openGroup(id);
    const Location at = runs.at(g, id);
    ExperimentRun run;
    run.info = readInfo(at, id);
    const h5::Group stepsGroup = at.openGroup("steps");
    const Location steps = at.at(stepsGroup, "steps");
    for (const auto &name : steps.children()) {
        const int number = stepNumber(name);
        if (number < 0)
            steps.fail(steps.child(name), "is not a step (expected a six-digit step index)", false);
        const h5::Group s = steps.openGroup(name);
        run.steps.push_back(readStep(steps.at(s, name), run.info.layers));
        if (run.steps.back().index != number)
            steps.fail(steps.child(name) + "@index",
                "is " + std::to_string(run.steps.back().index) + ", the group name says " + std::to_string(number),
                false);
    }
    std::sort(run.steps.begin(), run.steps.end(), [](const auto &a, const auto &b) { return a.index < b.index; });
    run.ppa = ppastore::readPoints(at, run.info.layers);
    return run;
}

// One journal record, read: a step, or a candidate of a step not finished yet.
struct JournalEntry
{
    bool isStep = false;
    TraceStep step;
    CandidateRecord candidate;
};

FormatError journalError(const std::string &experiment, std::uint64_t offset, const std::string &what)
{
    return FormatError(journal::pathFor(experiment), offset, "", what);
}

JournalEntry parseRecord(const journal::Record &r, std::uint64_t offset, int layers, const std::string &experiment)
{
    JournalEntry e;
    try {
        const std::string type = r.body.value("type", std::string());
        if (type == "step") {
            if (!r.body.contains("step"))
                throw std::invalid_argument("step: missing");
            e.isStep = true;
            e.step = stepjson::parse(r.body["step"]);
            checkStep(e.step, layers, "run \"" + r.run + "\"");
            return e;
        }
        if (type != "candidate")
            throw std::invalid_argument("type: \"" + type + "\" is neither \"step\" nor \"candidate\"");
        auto integer = [&](const char *name) {
            if (!r.body.contains(name) || !r.body[name].is_number_integer())
                throw std::invalid_argument(std::string(name) + ": not an integer");
            const auto v = r.body[name].get<std::int64_t>();
            if (v < 0 || v > 1'000'000'000)
                throw std::invalid_argument(std::string(name) + ": out of range");
            return static_cast<int>(v);
        };
        e.candidate.step = integer("step");
        e.candidate.stage = integer("stage");
        e.candidate.index = integer("index");
        if (!r.body.contains("what") || !r.body["what"].is_string())
            throw std::invalid_argument("what: not a string");
        e.candidate.what = r.body["what"].get<std::string>();
        if (!r.body.contains("score"))
            throw std::invalid_argument("score: missing");
        e.candidate.score = stepjson::readNumber(r.body["score"], "score");
    } catch (const std::invalid_argument &err) {
        throw journalError(experiment, offset, "run \"" + r.run + "\": " + err.what());
    } catch (const UsageError &err) {
        throw journalError(experiment, offset, err.what());
    }
    return e;
}

void warnDamage(const journal::Contents &j, const std::string &experiment)
{
    if (!j.damage.empty())
        log::store()->warn("{}: {}; the records before it are used", journal::pathFor(experiment), j.damage);
}

// One transaction that changes /runs/<id> (or says there is no such run).
void changeRun(const std::string &path, const std::string &runId, const std::function<void(const Location &)> &change)
{
    const std::lock_guard lock(ioMutex());
    quietHdf5();
    transaction(path, nullptr, [&](const Location &root) {
        const h5::Group runs = root.openGroup("runs");
        const Location runsAt = root.at(runs, "runs");
        if (runNumber(runId) < 0 || !runsAt.hasLink(runId))
            throw UsageError(*root.file + ": no run \"" + runId + "\"");
        const h5::Group run = runsAt.openGroup(runId);
        change(runsAt.at(run, runId));
    });
}

} // namespace

const ExperimentRun *Experiment::find(const std::string &runId) const
{
    for (const auto &r : runs)
        if (r.info.id == runId)
            return &r;
    return nullptr;
}

const SweepRecord *Experiment::findSweep(const std::string &sweepId) const
{
    for (const auto &s : sweeps)
        if (s.id == sweepId)
            return &s;
    return nullptr;
}

std::vector<journal::Record> h5tx::foldJournal(const Location &root, const journal::Contents &j)
{
    if (j.records.empty())
        return {};
    const std::string &path = *root.file;
    warnDamage(j, path);
    const h5::Group runsGroup = root.openGroup("runs");
    const Location runs = root.at(runsGroup, "runs");
    struct RunState
    {
        bool matches = false;
        int layers = 0;
        int steps = 0;
    };
    std::map<std::string, RunState> state;
    auto stateOf = [&](const journal::Record &r) -> RunState & {
        auto it = state.find(r.run);
        if (it != state.end())
            return it->second;
        RunState s;
        if (runNumber(r.run) >= 0 && runs.hasLink(r.run)) {
            const h5::Group g = runs.openGroup(r.run);
            const Location at = runs.at(g, r.run);
            s.matches = h5::readStringAttribute(at, "started") == r.started;
            s.layers = h5::readAttribute<std::int32_t>(at, "layers");
            const h5::Group stepsGroup = at.openGroup("steps");
            s.steps = static_cast<int>(at.at(stepsGroup, "steps").children().size());
        }
        return state.emplace(r.run, s).first->second;
    };
    std::vector<std::pair<const journal::Record *, int>> candidates; // record, its step
    for (std::size_t i = 0; i < j.records.size(); ++i) {
        const journal::Record &r = j.records[i];
        RunState &s = stateOf(r);
        if (!s.matches)
            continue; // a journal left by another file of the same name
        const JournalEntry e = parseRecord(r, j.offsets[i], s.layers, path);
        if (!e.isStep) {
            candidates.emplace_back(&r, e.candidate.step);
            continue;
        }
        if (e.step.index < s.steps)
            continue; // folded before
        if (e.step.index > s.steps) {
            log::store()->warn("{}: run {} has no step {}; its step {} is dropped", journal::pathFor(path), r.run,
                s.steps, e.step.index);
            continue;
        }
        const h5::Group runGroup = runs.openGroup(r.run);
        const Location at = runs.at(runGroup, r.run);
        const h5::Group stepsGroup = at.openGroup("steps");
        const Location steps = at.at(stepsGroup, "steps");
        const std::string name = stepName(e.step.index);
        const h5::Group g = steps.createGroup(name);
        writeStep(steps.at(g, name), e.step, s.layers);
        ++s.steps;
    }
    std::vector<journal::Record> keep;
    for (const auto &[r, step] : candidates)
        if (step == state[r->run].steps)
            keep.push_back(*r);
    return keep;
}

namespace {

// Adds the journal's steps and pending candidates to the runs read from the HDF5 file.
void mergeJournal(Experiment &e, const journal::Contents &j, const std::string &path)
{
    warnDamage(j, path);
    std::vector<std::pair<ExperimentRun *, CandidateRecord>> candidates;
    for (std::size_t i = 0; i < j.records.size(); ++i) {
        const journal::Record &r = j.records[i];
        ExperimentRun *run = nullptr;
        for (auto &x : e.runs)
            if (x.info.id == r.run && x.info.started == r.started)
                run = &x;
        if (!run)
            continue;
        JournalEntry entry = parseRecord(r, j.offsets[i], run->info.layers, path);
        if (!entry.isStep) {
            candidates.emplace_back(run, std::move(entry.candidate));
            continue;
        }
        const auto next = static_cast<int>(run->steps.size());
        if (entry.step.index < next)
            continue;
        if (entry.step.index > next) {
            log::store()->warn("{}: run {} has no step {}; its step {} is not shown", journal::pathFor(path), r.run,
                next, entry.step.index);
            continue;
        }
        run->steps.push_back(std::move(entry.step));
    }
    for (auto &[run, c] : candidates)
        if (c.step == static_cast<int>(run->steps.size()))
            run->pending.push_back(std::move(c));
}

// What appending to a run needs from the file: read, not copied.
struct RunHead
{
    std::string started;
    int layers = 0;
    int steps = 0;
};

// Opens an existing experiment file read-only: UsageError when there is none, FormatError when
// HDF5 cannot open it.
h5::File openForReading(const std::string &path)
{
    std::error_code ec;
    if (!fs::exists(path, ec))
        throw UsageError(path + ": no such experiment file");
    if (!fs::is_regular_file(path, ec))
        throw UsageError(path + ": not a file");
    const h5::PropertyList fapl = fileAccess(path);
    h5::File file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()));
    if (!file.valid())
        throw FormatError(path, FormatError::NoOffset, "",
            "not a Blockscope experiment file (HDF5 cannot open it: " + h5::lastError() + ")");
    return file;
}

RunHead runHead(const std::string &path, const std::string &runId)
{
    const h5::File file = openForReading(path);
    Location root{&path, file.get(), "/"};
    checkRoot(root);
    const h5::Group runsGroup = root.openGroup("runs");
    const Location runs = root.at(runsGroup, "runs");
    if (runNumber(runId) < 0 || !runs.hasLink(runId))
        throw UsageError(path + ": no run \"" + runId + "\"");
    const h5::Group g = runs.openGroup(runId);
    const Location at = runs.at(g, runId);
    RunHead head;
    head.started = h5::readStringAttribute(at, "started");
    head.layers = h5::readAttribute<std::int32_t>(at, "layers");
    const h5::Group stepsGroup = at.openGroup("steps");
    head.steps = static_cast<int>(at.at(stepsGroup, "steps").children().size());
    return head;
}

// The journal is folded once it holds half as many bytes as the file (and at least this many):
// each fold copies the file, so the copying adds up to at most twice the bytes appended.
constexpr std::uintmax_t MinFoldBytes = 64 * 1024;

} // namespace

Experiment ExperimentFile::read(const std::string &path)
{
    const std::lock_guard lock(ioMutex());
    quietHdf5();
    // The journal first: a fold that lands between the two reads then only repeats steps, which
    // the merge skips (read the other way round, it could hide them).
    const journal::Contents pending = journal::read(path);
    const h5::File file = openForReading(path);
    Location root{&path, file.get(), "/"};
    Experiment e;
    e.formatVersion = checkRoot(root);
    const h5::Group runsGroup = root.openGroup("runs");
    const Location runs = root.at(runsGroup, "runs");
    std::vector<std::pair<int, std::string>> ids;
    for (const auto &name : runs.children()) {
        const int number = runNumber(name);
        if (number < 0)
            runs.fail(runs.child(name), "is not a run (expected run-NNNN)", false);
        ids.emplace_back(number, name);
    }
    std::sort(ids.begin(), ids.end());
    for (const auto &[number, id] : ids)
        e.runs.push_back(readRun(runs, id));
    e.sweeps = sweepstore::readSweeps(root);
    mergeJournal(e, pending, path);
    return e;
}

std::string ExperimentFile::addRun(const std::string &path, RunInfo info)
{
    if (info.layers < 1)
        throw UsageError("a run needs a model with at least one block, got " + std::to_string(info.layers));
    if (!statuses.count(info.status))
        throw UsageError("unknown run status \"" + info.status + "\" (valid: running, complete, cancelled, failed)");
    const std::lock_guard lock(ioMutex());
    quietHdf5();
    const std::string createdBy
        = "Blockscope" + (info.blockscopeVersion.empty() ? std::string() : " " + info.blockscopeVersion);
    std::string id;
    transaction(path, &createdBy, [&](const Location &root) {
        const h5::Group runsGroup = root.openGroup("runs");
        const Location runs = root.at(runsGroup, "runs");
        int last = 0;
        for (const auto &name : runs.children())
            last = std::max(last, runNumber(name));
        id = runName(last + 1);
        const h5::Group run = runs.createGroup(id);
        const Location at = runs.at(run, id);
        writeInfo(at, info);
        at.createGroup("steps");
    });
    return id;
}

void ExperimentFile::appendStep(const std::string &path, const std::string &runId, const TraceStep &step)
{
    const std::lock_guard lock(ioMutex());
    quietHdf5();
    const ExperimentWriteLock writer(path);
    const RunHead head = runHead(path, runId);
    checkStep(step, head.layers, path + ": run \"" + runId + "\"");
    const int next = std::max(head.steps, journal::nextStep(path, runId, head.started));
    if (step.index < next)
        throw UsageError(path + ": run \"" + runId + "\" already has step " + std::to_string(step.index)
            + "; recorded steps are never replaced");
    if (step.index > next)
        throw UsageError(path + ": run \"" + runId + "\" has no step " + std::to_string(next) + " yet; step "
            + std::to_string(step.index) + " cannot come before it");
    journal::append(path, {runId, head.started, {{"type", "step"}, {"step", stepjson::step(step, true)}}});
    std::error_code ec;
    const std::uintmax_t fileBytes = fs::file_size(path, ec);
    const std::uintmax_t journalBytes = journal::size(path);
    if (!ec && journalBytes >= MinFoldBytes && 2 * journalBytes >= fileBytes)
        transaction(path, nullptr, [](const Location &) {});
}

void ExperimentFile::appendCandidate(const std::string &path, const std::string &runId, const CandidateRecord &c)
{
    const std::lock_guard lock(ioMutex());
    quietHdf5();
    const ExperimentWriteLock writer(path);
    const RunHead head = runHead(path, runId);
    journal::append(path,
        {runId, head.started,
            {{"type", "candidate"}, {"step", c.step}, {"stage", c.stage}, {"index", c.index}, {"what", c.what},
                {"score", stepjson::exactNumber(c.score)}}});
}

void ExperimentFile::foldJournal(const std::string &path)
{
    const std::lock_guard lock(ioMutex());
    quietHdf5();
    transaction(path, nullptr, [](const Location &) {});
}

void ExperimentFile::setStatus(const std::string &path, const std::string &runId, const std::string &status)
{
    if (!statuses.count(status))
        throw UsageError("unknown run status \"" + status + "\" (valid: running, complete, cancelled, failed)");
    changeRun(path, runId, [&](const Location &at) { h5::writeAttribute(at, "status", status); });
}

void ExperimentFile::setDensePerplexity(const std::string &path, const std::string &runId, double perplexity)
{
    changeRun(path, runId, [&](const Location &at) { h5::writeAttribute(at, "dense_perplexity", perplexity); });
}

void ExperimentFile::setPpa(const std::string &path, const std::string &runId, const std::vector<ppa::PpaPoint> &points)
{
    changeRun(path, runId, [&](const Location &at) {
        const int layers = h5::readAttribute<std::int32_t>(at, "layers");
        ppastore::checkPoints(points, layers, path + ": run \"" + runId + "\"");
        ppastore::writePoints(at, points);
    });
}

std::string ExperimentFile::addSweep(const std::string &path, SweepRecord sweep)
{
    const int layers = sweepstore::checkSweep(sweep, path + ": sweep \"" + sweep.label + "\"");
    const std::lock_guard lock(ioMutex());
    quietHdf5();
    const std::string createdBy = "Blockscope";
    std::string id;
    transaction(path, &createdBy, [&](const Location &root) { id = sweepstore::addSweep(root, sweep, layers); });
    return id;
}

void ExperimentFile::setFormatVersionForTesting(const std::string &path, int version)
{
    const std::lock_guard lock(ioMutex());
    quietHdf5();
    const h5::PropertyList fapl = fileAccess(path);
    h5::File file(H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl.get()));
    if (!file.valid())
        throw FormatError(path, FormatError::NoOffset, "", "cannot open: " + h5::lastError());
    const Location root{&path, file.get(), "/"};
    h5::writeAttribute(root, "format_version", std::int32_t(version));
    if (file.close() < 0)
        root.fail("", "cannot write the file");
}

} // namespace blockscope
