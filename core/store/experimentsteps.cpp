// A search step's layout in the experiment file (README, "Experiment file format": the groups
// under /runs/<id>/steps): written, checked and read. Private to core/store.
#include "experimentsteps.h"

#include "common/formaterror.h"

#include <cstdio>
#include <string>
#include <vector>

namespace blockscope::stepstore {

using h5::Location;

std::string stepName(int index)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%06d", index);
    return buf;
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

namespace {

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

} // namespace

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
    std::vector<std::uint8_t> bounds;
    bool anyBound = false;
    for (const auto &c : step.candidates) {
        candidateUnits.push_back(c.unit);
        positions.push_back(c.position);
        scores.push_back(c.score);
        bounds.push_back(c.lowerBound);
        anyBound = anyBound || c.lowerBound;
    }
    writeUnits(at, "candidate", candidateUnits);
    h5::writeDataset(at, "candidate_position", dims1(positions.size()), positions);
    h5::writeDataset(at, "candidate_score", dims1(scores.size()), scores);
    // Only steps of a search that stops candidates early have it (absent: every score is complete).
    if (anyBound)
        h5::writeDataset(at, "candidate_lower_bound", dims1(bounds.size()), bounds);
    writeMask(at, "skip", step.mask);
    h5::writeDataset(at, "block_scores", dims1(step.blockScores.size()), step.blockScores);
    const hsize_t side = step.distanceMatrix.empty() ? 0 : static_cast<hsize_t>(layers + 1);
    h5::writeDataset(at, "distance_matrix", {side, side}, step.distanceMatrix);

    if (step.hasEvo) {
        h5::Group evo = at.createGroup("evo");
        writeEvo(at.at(evo, "evo"), step.evo, layers);
    }
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

using h5::read1;
using h5::readFlag;
using h5::requireLength;

namespace {

std::vector<bool> readBits(const Location &at, const std::string &name, const std::vector<std::uint8_t> &v)
{
    for (auto b : v)
        if (b > 1)
            at.fail(at.child(name), "mask values must be 0 or 1, got " + std::to_string(b), false);
    return std::vector<bool>(v.begin(), v.end());
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

} // namespace

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
    std::vector<std::uint8_t> bounds(candidates.size(), 0);
    if (at.hasLink("candidate_lower_bound")) {
        bounds = read1<std::uint8_t>(at, "candidate_lower_bound");
        requireLength(at, "candidate_lower_bound", bounds.size(), candidates.size());
        for (std::uint8_t b : bounds)
            if (b > 1)
                at.fail(at.path + "/candidate_lower_bound", "must hold 0 or 1, got " + std::to_string(b), false);
    }
    for (std::size_t i = 0; i < candidates.size(); ++i)
        step.candidates.push_back({candidates[i], scores[i], positions[i], bounds[i] == 1});
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

} // namespace blockscope::stepstore
