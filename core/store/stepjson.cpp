#include "stepjson.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace blockscope::stepjson {

namespace {

using nlohmann::json;

json value(double v, bool exact)
{
    if (std::isfinite(v) || !exact)
        return number(v);
    if (std::isnan(v))
        return "nan";
    return v > 0 ? "inf" : "-inf";
}

json values(const std::vector<double> &v, bool exact)
{
    json a = json::array();
    for (double x : v)
        a.push_back(value(x, exact));
    return a;
}

json labels(const std::vector<Unit> &units)
{
    json a = json::array();
    for (const auto &u : units)
        a.push_back(u.label());
    return a;
}

json evo(const EvoGeneration &e, bool exact)
{
    json offspring = json::array();
    for (const auto &c : e.offspring) {
        json swaps = json::array();
        for (const auto &s : c.swaps)
            swaps.push_back({{"kind", unitKindName(s.kind)}, {"removed", s.removed}, {"restored", s.restored}});
        offspring.push_back({{"genome", mask(c.genome)}, {"swaps", swaps},
            {"stage1_fitness", value(c.stage1Fitness, exact)}, {"final_fitness", value(c.finalFitness, exact)}});
    }
    json population = json::array();
    for (const auto &m : e.population)
        population.push_back(mask(m));
    return {{"parent", mask(e.parent)}, {"parent_fitness", value(e.parentFitness, exact)},
        {"parent_rescored", value(e.parentRescored, exact)}, {"offspring", offspring},
        {"stage_sequences", e.stageSequences}, {"stage_tokens", e.stageTokens}, {"winner_is_parent", e.winnerIsParent},
        {"rejected_draws", e.rejectedDraws}, {"rejection_cap_hit", e.rejectionCapHit}, {"population", population},
        {"population_fitness", values(e.populationFitness, exact)}};
}

// Reading: every accessor names the field it was asked for when the value is missing or of the
// wrong type.
[[noreturn]] void bad(const std::string &field, const std::string &what)
{
    throw std::invalid_argument(field + ": " + what);
}

const json &member(const json &j, const std::string &field, const char *name)
{
    if (!j.is_object())
        bad(field, "not an object");
    const auto it = j.find(name);
    if (it == j.end())
        bad(field.empty() ? name : field + "." + name, "missing");
    return *it;
}

std::string sub(const std::string &field, const char *name)
{
    return field.empty() ? name : field + "." + name;
}

double readDouble(const json &v, const std::string &field)
{
    if (v.is_null())
        return std::numeric_limits<double>::quiet_NaN();
    if (v.is_number())
        return v.get<double>();
    if (v.is_string()) {
        const auto &s = v.get_ref<const std::string &>();
        if (s == "nan")
            return std::numeric_limits<double>::quiet_NaN();
        if (s == "inf")
            return std::numeric_limits<double>::infinity();
        if (s == "-inf")
            return -std::numeric_limits<double>::infinity();
    }
    bad(field, "not a number");
}

template<typename Int>
Int readInt(const json &v, const std::string &field)
{
    if (!v.is_number_integer())
        bad(field, "not an integer");
    const auto x = v.get<std::int64_t>();
    if (x < static_cast<std::int64_t>(std::numeric_limits<Int>::min())
        || x > static_cast<std::int64_t>(std::numeric_limits<Int>::max()))
        bad(field, "out of range");
    return static_cast<Int>(x);
}

bool readBool(const json &v, const std::string &field)
{
    if (!v.is_boolean())
        bad(field, "not true or false");
    return v.get<bool>();
}

std::string readString(const json &v, const std::string &field)
{
    if (!v.is_string())
        bad(field, "not a string");
    return v.get<std::string>();
}

const json &array(const json &v, const std::string &field)
{
    if (!v.is_array())
        bad(field, "not an array");
    return v;
}

std::string at(const std::string &field, std::size_t i)
{
    return field + "[" + std::to_string(i) + "]";
}

std::vector<bool> readBits(const json &v, const std::string &field)
{
    std::vector<bool> out;
    for (std::size_t i = 0; i < array(v, field).size(); ++i)
        out.push_back(readBool(v[i], at(field, i)));
    return out;
}

UnitMask readMask(const json &v, const std::string &field)
{
    return {readBits(member(v, field, "skip_attn"), sub(field, "skip_attn")),
        readBits(member(v, field, "skip_mlp"), sub(field, "skip_mlp"))};
}

Unit readUnit(const json &v, const std::string &field)
{
    try {
        return unitFromLabel(readString(v, field));
    } catch (const std::invalid_argument &e) {
        bad(field, e.what());
    }
}

std::vector<Unit> readUnits(const json &v, const std::string &field)
{
    std::vector<Unit> out;
    for (std::size_t i = 0; i < array(v, field).size(); ++i)
        out.push_back(readUnit(v[i], at(field, i)));
    return out;
}

std::vector<double> readDoubles(const json &v, const std::string &field)
{
    std::vector<double> out;
    for (std::size_t i = 0; i < array(v, field).size(); ++i)
        out.push_back(readDouble(v[i], at(field, i)));
    return out;
}

std::vector<std::int64_t> readInts(const json &v, const std::string &field)
{
    std::vector<std::int64_t> out;
    for (std::size_t i = 0; i < array(v, field).size(); ++i)
        out.push_back(readInt<std::int64_t>(v[i], at(field, i)));
    return out;
}

EvoGeneration readEvo(const json &j, const std::string &field)
{
    auto m = [&](const char *name) -> const json & { return member(j, field, name); };
    EvoGeneration e;
    e.parent = readMask(m("parent"), sub(field, "parent"));
    e.parentFitness = readDouble(m("parent_fitness"), sub(field, "parent_fitness"));
    e.parentRescored = readDouble(m("parent_rescored"), sub(field, "parent_rescored"));
    const std::string off = sub(field, "offspring");
    const json &offspring = array(m("offspring"), off);
    for (std::size_t i = 0; i < offspring.size(); ++i) {
        const std::string f = at(off, i);
        EvoCandidate c;
        c.genome = readMask(member(offspring[i], f, "genome"), sub(f, "genome"));
        const std::string sw = sub(f, "swaps");
        const json &swaps = array(member(offspring[i], f, "swaps"), sw);
        for (std::size_t k = 0; k < swaps.size(); ++k) {
            const std::string g = at(sw, k);
            EvoSwap s;
            try {
                s.kind = unitKindFromName(readString(member(swaps[k], g, "kind"), sub(g, "kind")));
            } catch (const std::invalid_argument &e) {
                bad(sub(g, "kind"), e.what());
            }
            s.removed = readInt<int>(member(swaps[k], g, "removed"), sub(g, "removed"));
            s.restored = readInt<int>(member(swaps[k], g, "restored"), sub(g, "restored"));
            c.swaps.push_back(s);
        }
        c.stage1Fitness = readDouble(member(offspring[i], f, "stage1_fitness"), sub(f, "stage1_fitness"));
        c.finalFitness = readDouble(member(offspring[i], f, "final_fitness"), sub(f, "final_fitness"));
        e.offspring.push_back(std::move(c));
    }
    const std::string seqs = sub(field, "stage_sequences");
    const json &sequences = array(m("stage_sequences"), seqs);
    for (std::size_t i = 0; i < sequences.size(); ++i)
        e.stageSequences.push_back(readInts(sequences[i], at(seqs, i)));
    e.stageTokens = readInts(m("stage_tokens"), sub(field, "stage_tokens"));
    e.winnerIsParent = readBool(m("winner_is_parent"), sub(field, "winner_is_parent"));
    e.rejectedDraws = readInt<std::int64_t>(m("rejected_draws"), sub(field, "rejected_draws"));
    e.rejectionCapHit = readBool(m("rejection_cap_hit"), sub(field, "rejection_cap_hit"));
    const std::string pop = sub(field, "population");
    const json &population = array(m("population"), pop);
    for (std::size_t i = 0; i < population.size(); ++i)
        e.population.push_back(readMask(population[i], at(pop, i)));
    e.populationFitness = readDoubles(m("population_fitness"), sub(field, "population_fitness"));
    return e;
}

} // namespace

json number(double v)
{
    return std::isfinite(v) ? json(v) : json(nullptr);
}

json exactNumber(double v)
{
    return value(v, true);
}

double readNumber(const json &v, const std::string &field)
{
    return readDouble(v, field);
}

json mask(const UnitMask &m)
{
    return {{"skip_attn", m.skipAttn}, {"skip_mlp", m.skipMlp}};
}

json candidate(const CandidateRecord &c)
{
    json j
        = {{"step", c.step}, {"stage", c.stage}, {"index", c.index}, {"what", c.what}, {"score", exactNumber(c.score)}};
    if (c.lowerBound) {
        j["lower_bound"] = true;
        j["tokens"] = c.tokens;
    }
    return j;
}

CandidateRecord parseCandidate(const json &j)
{
    CandidateRecord c;
    auto integer = [&](const char *name) {
        if (!j.contains(name) || !j[name].is_number_integer())
            throw std::invalid_argument(std::string(name) + ": not an integer");
        const auto v = j[name].get<std::int64_t>();
        if (v < 0 || v > 1'000'000'000)
            throw std::invalid_argument(std::string(name) + ": out of range");
        return static_cast<int>(v);
    };
    c.step = integer("step");
    c.stage = integer("stage");
    c.index = integer("index");
    if (!j.contains("what") || !j["what"].is_string())
        throw std::invalid_argument("what: not a string");
    c.what = j["what"].get<std::string>();
    if (!j.contains("score"))
        throw std::invalid_argument("score: missing");
    c.score = readNumber(j["score"], "score");
    if (j.contains("lower_bound")) {
        if (!j["lower_bound"].is_boolean())
            throw std::invalid_argument("lower_bound: not true or false");
        c.lowerBound = j["lower_bound"].get<bool>();
        if (c.lowerBound) {
            if (!j.contains("tokens") || !j["tokens"].is_number_integer() || j["tokens"].get<std::int64_t>() < 0)
                throw std::invalid_argument("tokens: not a count of tokens");
            c.tokens = j["tokens"].get<std::int64_t>();
        }
    }
    return c;
}

json step(const TraceStep &s, bool exact)
{
    json candidates = json::array();
    for (const auto &c : s.candidates) {
        candidates.push_back({{"unit", c.unit.label()}, {"score", value(c.score, exact)}, {"position", c.position}});
        if (c.lowerBound) // only early-stopped SLEB candidates carry the flag
            candidates.back()["lower_bound"] = true;
    }
    json j = {{"index", s.index}, {"kind", s.kind}, {"chosen", labels(s.chosen)},
        {"chosen_score", value(s.chosenScore, exact)}, {"near_tie", s.nearTie}, {"readmitted", s.readmitted},
        {"candidates", candidates}, {"mask", mask(s.mask)}, {"removed_so_far", labels(s.removedSoFar)},
        {"evaluations", s.evaluations}, {"unit_forwards", s.unitForwards}, {"tokens", s.tokens},
        {"seconds", value(s.seconds, exact)}, {"perplexity", value(s.perplexity, exact)},
        {"kl_to_dense", value(s.klToDense, exact)}, {"rng_state", s.rngState},
        {"block_scores", values(s.blockScores, exact)}, {"distance_matrix", values(s.distanceMatrix, exact)}};
    j["evo"] = s.hasEvo ? evo(s.evo, exact) : json(nullptr);
    return j;
}

TraceStep parse(const json &j)
{
    auto m = [&](const char *name) -> const json & { return member(j, "", name); };
    TraceStep s;
    s.index = readInt<int>(m("index"), "index");
    s.kind = readString(m("kind"), "kind");
    s.chosen = readUnits(m("chosen"), "chosen");
    s.chosenScore = readDouble(m("chosen_score"), "chosen_score");
    s.nearTie = readBool(m("near_tie"), "near_tie");
    s.readmitted = readBool(m("readmitted"), "readmitted");
    const json &candidates = array(m("candidates"), "candidates");
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const std::string f = at("candidates", i);
        s.candidates.push_back({readUnit(member(candidates[i], f, "unit"), sub(f, "unit")),
            readDouble(member(candidates[i], f, "score"), sub(f, "score")),
            readInt<int>(member(candidates[i], f, "position"), sub(f, "position")),
            candidates[i].is_object() && candidates[i].contains("lower_bound")
                && readBool(candidates[i]["lower_bound"], sub(f, "lower_bound"))});
    }
    s.mask = readMask(m("mask"), "mask");
    s.removedSoFar = readUnits(m("removed_so_far"), "removed_so_far");
    s.evaluations = readInt<std::int64_t>(m("evaluations"), "evaluations");
    s.unitForwards = readInt<std::int64_t>(m("unit_forwards"), "unit_forwards");
    s.tokens = readInt<std::int64_t>(m("tokens"), "tokens");
    s.seconds = readDouble(m("seconds"), "seconds");
    s.perplexity = readDouble(m("perplexity"), "perplexity");
    s.klToDense = readDouble(m("kl_to_dense"), "kl_to_dense");
    s.rngState = readString(m("rng_state"), "rng_state");
    s.blockScores = readDoubles(m("block_scores"), "block_scores");
    s.distanceMatrix = readDoubles(m("distance_matrix"), "distance_matrix");
    const json &e = m("evo");
    s.hasEvo = !e.is_null();
    if (s.hasEvo)
        s.evo = readEvo(e, "evo");
    return s;
}

} // namespace blockscope::stepjson
