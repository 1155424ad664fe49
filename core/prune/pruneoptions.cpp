#include "pruneoptions.h"

#include "common/formaterror.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <utility>

namespace blockscope {

namespace {
constexpr std::pair<PruneMethod, const char *> methodNames[]
    = {{PruneMethod::Sleb, "sleb"}, {PruneMethod::FinerCut, "finercut"}, {PruneMethod::EvoPress, "evopress"},
        {PruneMethod::ShortGpt, "shortgpt"}, {PruneMethod::Angular, "angular"}};
const std::set<std::string> finercutLevels = {"am", "a", "m", "block"};
const std::set<std::string> finercutMetrics = {"js", "kl", "norm"};
const std::set<std::string> evoFitnesses = {"kl", "ppl"};
const std::set<std::string> teachers = {"float16", "bfloat16", "float32", "top-k"};
// The spec's floor for a top-K teacher (pruning.md §5).
constexpr int MinTopK = 512;

[[noreturn]] void fail(const std::string &key, const std::string &message)
{
    throw UsageError("prune option \"" + key + "\": " + message);
}

std::string joined(const std::set<std::string> &names)
{
    std::string s;
    for (const auto &n : names)
        s += (s.empty() ? "" : ", ") + n;
    return s;
}

void requireOneOf(const std::string &key, const std::string &value, const std::set<std::string> &valid)
{
    if (!valid.count(value))
        fail(key, "unknown value \"" + value + "\" (valid: " + joined(valid) + ")");
}

std::string number(double v)
{
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.')
        s.pop_back();
    return s;
}

// L * r lands on an integer more often than the binary fraction says (0.3 * 10 is
// 3.0000000000000004), and ceil/floor must not jump a whole unit for that.
int ceilCount(int n, double r)
{
    return static_cast<int>(std::ceil(n * r - 1e-9));
}
int floorCount(int n, double r)
{
    return static_cast<int>(std::floor(n * r + 1e-9));
}

int finercutUnits(const std::string &level, int layers)
{
    return level == "am" ? 2 * layers : layers;
}

// Reading one JSON field into its typed member; every mismatch names the key.
struct Reader
{
    const nlohmann::json &j;

    const nlohmann::json *find(const char *key) const
    {
        const auto it = j.find(key);
        return it == j.end() ? nullptr : &*it;
    }
    void boolean(const char *key, bool &out) const
    {
        if (const auto *v = find(key)) {
            if (!v->is_boolean())
                fail(key, "must be true or false");
            out = v->get<bool>();
        }
    }
    template<class Int>
    static Int integral(const char *key, const nlohmann::json &v)
    {
        if (v.is_number_unsigned()) {
            const auto u = v.get<std::uint64_t>();
            if (u > static_cast<std::uint64_t>(std::numeric_limits<Int>::max()))
                fail(key, "value " + std::to_string(u) + " is too large");
            return static_cast<Int>(u);
        }
        if (!v.is_number_integer())
            fail(key, "must be an integer");
        const auto i = v.get<std::int64_t>();
        if (i < static_cast<std::int64_t>(std::numeric_limits<Int>::min())
            || (i > 0 && static_cast<std::uint64_t>(i) > static_cast<std::uint64_t>(std::numeric_limits<Int>::max())))
            fail(key, "value " + std::to_string(i) + " is out of range");
        return static_cast<Int>(i);
    }
    template<class Int>
    void integer(const char *key, Int &out) const
    {
        if (const auto *v = find(key))
            out = integral<Int>(key, *v);
    }
    void real(const char *key, double &out) const
    {
        if (const auto *v = find(key)) {
            if (!v->is_number())
                fail(key, "must be a number");
            out = v->get<double>();
        }
    }
    void string(const char *key, std::string &out) const
    {
        if (const auto *v = find(key)) {
            if (!v->is_string())
                fail(key, "must be a string");
            out = v->get<std::string>();
        }
    }
    template<class Int>
    void integers(const char *key, std::vector<Int> &out) const
    {
        if (const auto *v = find(key)) {
            if (!v->is_array())
                fail(key, "must be an array of integers");
            std::vector<Int> values;
            for (const auto &e : *v)
                values.push_back(integral<Int>(key, e));
            out = std::move(values);
        }
    }
};

const std::set<std::string> knownKeys = {"method", "target", "seed", "calibration_windows", "batch", "cached",
    "evaluate_steps", "early_stop", "early_barrier", "latter_barrier", "protected_blocks", "finercut_level",
    "exclude_fraction", "finercut_metric", "offspring", "generations", "initial_genomes", "initial_tokens",
    "stage_tokens", "stage_survivors", "max_mutations", "drop_entire_block", "evo_fitness", "teacher", "teacher_top_k",
    "teacher_budget_mib", "last_hidden_post_norm", "angular_all_tokens", "angular_divide_by_pi"};
} // namespace

std::string pruneMethodName(PruneMethod m)
{
    for (const auto &[v, name] : methodNames)
        if (v == m)
            return name;
    return "?";
}

std::string pruneMethodNames()
{
    std::string s;
    for (const auto &[v, name] : methodNames)
        s += (s.empty() ? "" : ", ") + std::string(name);
    return s;
}

PruneMethod pruneMethodFromName(const std::string &name)
{
    for (const auto &[v, n] : methodNames)
        if (name == n)
            return v;
    throw UsageError("unknown pruning method \"" + name + "\" (valid: " + pruneMethodNames() + ")");
}

nlohmann::json PruneOptions::toJson() const
{
    return {{"method", pruneMethodName(method)}, {"target", target}, {"seed", seed},
        {"calibration_windows", calibrationWindows}, {"batch", batch}, {"cached", cached},
        {"evaluate_steps", evaluateSteps}, {"early_stop", earlyStop}, {"early_barrier", earlyBarrier},
        {"latter_barrier", latterBarrier}, {"protected_blocks", protectedBlocks}, {"finercut_level", finercutLevel},
        {"exclude_fraction", excludeFraction}, {"finercut_metric", finercutMetric}, {"offspring", offspring},
        {"generations", generations}, {"initial_genomes", initialGenomes}, {"initial_tokens", initialTokens},
        {"stage_tokens", stageTokens}, {"stage_survivors", stageSurvivors}, {"max_mutations", maxMutations},
        {"drop_entire_block", dropEntireBlock}, {"evo_fitness", evoFitness}, {"teacher", teacher},
        {"teacher_top_k", teacherTopK}, {"teacher_budget_mib", teacherBudgetMiB},
        {"last_hidden_post_norm", lastHiddenPostNorm}, {"angular_all_tokens", angularAllTokens},
        {"angular_divide_by_pi", angularDivideByPi}};
}

PruneOptions PruneOptions::fromJson(const nlohmann::json &j)
{
    if (!j.is_object())
        throw UsageError("prune options must be a JSON object");
    for (const auto &item : j.items())
        if (!knownKeys.count(item.key()))
            fail(item.key(), "unknown option");

    PruneOptions o;
    const Reader r{j};
    std::string method = pruneMethodName(o.method);
    r.string("method", method);
    try {
        o.method = pruneMethodFromName(method);
    } catch (const UsageError &) {
        fail("method", "unknown method \"" + method + "\" (valid: " + pruneMethodNames() + ")");
    }
    r.real("target", o.target);
    r.integer("seed", o.seed);
    r.integer("calibration_windows", o.calibrationWindows);
    r.integer("batch", o.batch);
    r.boolean("cached", o.cached);
    r.boolean("evaluate_steps", o.evaluateSteps);
    r.boolean("early_stop", o.earlyStop);
    r.integer("early_barrier", o.earlyBarrier);
    r.integer("latter_barrier", o.latterBarrier);
    r.integers("protected_blocks", o.protectedBlocks);
    r.string("finercut_level", o.finercutLevel);
    requireOneOf("finercut_level", o.finercutLevel, finercutLevels);
    r.real("exclude_fraction", o.excludeFraction);
    r.string("finercut_metric", o.finercutMetric);
    requireOneOf("finercut_metric", o.finercutMetric, finercutMetrics);
    r.integer("offspring", o.offspring);
    r.integer("generations", o.generations);
    r.integer("initial_genomes", o.initialGenomes);
    r.integer("initial_tokens", o.initialTokens);
    r.integers("stage_tokens", o.stageTokens);
    r.integers("stage_survivors", o.stageSurvivors);
    r.integer("max_mutations", o.maxMutations);
    r.boolean("drop_entire_block", o.dropEntireBlock);
    r.string("evo_fitness", o.evoFitness);
    requireOneOf("evo_fitness", o.evoFitness, evoFitnesses);
    r.string("teacher", o.teacher);
    requireOneOf("teacher", o.teacher, teachers);
    r.integer("teacher_top_k", o.teacherTopK);
    r.real("teacher_budget_mib", o.teacherBudgetMiB);
    r.boolean("last_hidden_post_norm", o.lastHiddenPostNorm);
    r.boolean("angular_all_tokens", o.angularAllTokens);
    r.boolean("angular_divide_by_pi", o.angularDivideByPi);
    return o;
}

PruneOptions PruneOptions::tinyTsDefaults(PruneMethod method)
{
    PruneOptions o;
    o.method = method;
    switch (method) {
    case PruneMethod::Sleb: o.calibrationWindows = 16; break;
    case PruneMethod::FinerCut: o.calibrationWindows = 10; break;
    case PruneMethod::EvoPress:
        o.calibrationWindows = 64;
        o.initialTokens = 1024;
        o.stageTokens = {1024, 8192};
        o.offspring = 16;
        break;
    case PruneMethod::ShortGpt:
    case PruneMethod::Angular: o.calibrationWindows = 64; break;
    }
    return o;
}

int PruneOptions::calibrationBudget(PruneMethod method, const std::string &protocol, std::int64_t context)
{
    if (protocol == "sleb" && method == PruneMethod::Sleb)
        return 128;
    if (protocol == "finercut" && method == PruneMethod::FinerCut)
        return 10;
    if (protocol == "evopress" && method == PruneMethod::EvoPress)
        return static_cast<int>((131072 + std::max<std::int64_t>(context, 1) - 1) / std::max<std::int64_t>(context, 1));
    if (protocol == "tiny-ts" || protocol == "sliding")
        return tinyTsDefaults(method).calibrationWindows;
    if (method == PruneMethod::ShortGpt || method == PruneMethod::Angular)
        return 0;
    // Another method's preset (SLEB under the evopress protocol, say): that preset's own budget.
    if (protocol == "sleb")
        return 128;
    if (protocol == "finercut")
        return 10;
    if (protocol == "evopress")
        return calibrationBudget(PruneMethod::EvoPress, protocol, context);
    return tinyTsDefaults(method).calibrationWindows;
}

int PruneOptions::targetCount(int layers) const
{
    if (!std::isfinite(target) || target < 0)
        fail("target", "must be a count >= 1 or a fraction in (0, 1), got " + number(target));
    const bool fraction = target > 0 && target < 1;
    if (target >= 1) {
        if (target != std::floor(target))
            fail("target", "a count must be a whole number, got " + number(target));
        if (target > std::numeric_limits<int>::max())
            fail("target", "count " + number(target) + " is too large");
    }
    const int count = static_cast<int>(target);
    switch (method) {
    case PruneMethod::Sleb:
    case PruneMethod::ShortGpt:
    case PruneMethod::Angular: return fraction ? ceilCount(layers, target) : count;
    case PruneMethod::FinerCut: {
        const int units = finercutUnits(finercutLevel, layers);
        if (target == 0)
            return units;
        return fraction ? floorCount(units, target) : count;
    }
    case PruneMethod::EvoPress: return fraction ? floorCount(layers, target) : count;
    }
    return count;
}

void PruneOptions::validate(int layers, std::int64_t calibrationTokens) const
{
    if (layers < 1)
        throw UsageError("the model has no decoder blocks to prune");
    if (calibrationWindows < 0)
        fail("calibration_windows", "must be >= 0 (0 = all), got " + std::to_string(calibrationWindows));
    if (batch < 0)
        fail("batch", "must be >= 0 (0 = all windows at once), got " + std::to_string(batch));
    std::set<int> protectedSet;
    for (int b : protectedBlocks) {
        if (b < 0 || b >= layers)
            fail("protected_blocks",
                "block " + std::to_string(b) + " is outside the model's blocks 0.." + std::to_string(layers - 1));
        protectedSet.insert(b);
    }
    const int unprotected = layers - static_cast<int>(protectedSet.size());
    const int count = targetCount(layers); // checks the target's form

    switch (method) {
    case PruneMethod::Sleb: {
        if (earlyBarrier < 0)
            fail("early_barrier", "must be >= 0, got " + std::to_string(earlyBarrier));
        if (latterBarrier < 0)
            fail("latter_barrier", "must be >= 0, got " + std::to_string(latterBarrier));
        if (count < 1)
            fail("target", "SLEB needs at least one block to remove, got " + number(target));
        const int most = std::max(0, layers - earlyBarrier - latterBarrier);
        if (count > most)
            fail("target",
                "SLEB cannot remove " + std::to_string(count) + " blocks from a " + std::to_string(layers)
                    + "-block model with barriers " + std::to_string(earlyBarrier) + " and "
                    + std::to_string(latterBarrier) + ": at most " + std::to_string(most));
        if (count > unprotected)
            fail("protected_blocks",
                "SLEB cannot remove " + std::to_string(count) + " blocks when only " + std::to_string(unprotected)
                    + " are not protected");
        break;
    }
    case PruneMethod::ShortGpt:
    case PruneMethod::Angular: {
        const std::string name = method == PruneMethod::ShortGpt ? "ShortGPT" : "angular";
        if (count >= layers)
            fail("target",
                name + " cannot remove " + std::to_string(count) + " blocks from a " + std::to_string(layers)
                    + "-block model: at most " + std::to_string(layers - 1));
        if (count > unprotected)
            fail("protected_blocks",
                name + " cannot remove " + std::to_string(count) + " blocks when only " + std::to_string(unprotected)
                    + " are not protected");
        break;
    }
    case PruneMethod::FinerCut: {
        requireOneOf("finercut_level", finercutLevel, finercutLevels);
        requireOneOf("finercut_metric", finercutMetric, finercutMetrics);
        if (!(excludeFraction >= 0 && excludeFraction < 1))
            fail("exclude_fraction", "must be in [0, 1), got " + number(excludeFraction));
        const int units = finercutUnits(finercutLevel, layers);
        if (count > units)
            fail("target",
                "FinerCut at level " + finercutLevel + " has " + std::to_string(units) + " units; cannot remove "
                    + std::to_string(count));
        break;
    }
    case PruneMethod::EvoPress: {
        if (count < 1 || count >= layers)
            fail("target",
                "EvoPress removes k attention and k MLP sublayers with 1 <= k < " + std::to_string(layers) + " for a "
                    + std::to_string(layers) + "-block model; the target gives k = " + std::to_string(count));
        if (count > unprotected)
            fail("protected_blocks",
                "EvoPress cannot remove " + std::to_string(count) + " sublayers of each kind when only "
                    + std::to_string(unprotected) + " blocks are not protected");
        if (offspring < 1)
            fail("offspring", "must be >= 1, got " + std::to_string(offspring));
        if (generations < 0)
            fail("generations", "must be >= 0 (0 = floor(k (L - k) / 1.5)), got " + std::to_string(generations));
        if (initialGenomes < 1)
            fail("initial_genomes", "must be >= 1, got " + std::to_string(initialGenomes));
        if (maxMutations < 1)
            fail("max_mutations", "must be >= 1, got " + std::to_string(maxMutations));
        requireOneOf("evo_fitness", evoFitness, evoFitnesses);
        requireOneOf("teacher", teacher, teachers);
        if (teacher == "top-k" && teacherTopK < MinTopK)
            fail("teacher_top_k",
                "a top-K teacher keeps K >= " + std::to_string(MinTopK) + " tokens (pruning.md §5), got "
                    + std::to_string(teacherTopK));
        if (!(teacherBudgetMiB > 0) || !std::isfinite(teacherBudgetMiB))
            fail("teacher_budget_mib", "must be a positive number of MiB, got " + number(teacherBudgetMiB));
        if (stageTokens.empty())
            fail("stage_tokens", "needs at least one selection stage");
        if (stageSurvivors.size() != stageTokens.size())
            fail("stage_survivors",
                "has " + std::to_string(stageSurvivors.size()) + " stages but stage_tokens has "
                    + std::to_string(stageTokens.size()));
        for (int s : stageSurvivors)
            if (s < 1)
                fail("stage_survivors", "every stage must keep >= 1 genome, got " + std::to_string(s));
        const auto checkBudget = [&](const char *key, std::int64_t tokens) {
            if (tokens < 1)
                fail(key, "a token budget must be >= 1, got " + std::to_string(tokens));
            if (tokens > calibrationTokens)
                fail(key,
                    "EvoPress would never fill a minibatch of " + std::to_string(tokens) + " tokens from "
                        + std::to_string(calibrationTokens) + " calibration tokens");
        };
        checkBudget("initial_tokens", initialTokens);
        for (std::int64_t t : stageTokens)
            checkBudget("stage_tokens", t);
        break;
    }
    }
}

namespace {
std::string gib(double bytes)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
    return buf;
}
} // namespace

bool PruneOptions::usesTeacher() const
{
    return method == PruneMethod::EvoPress && evoFitness == "kl";
}

double PruneOptions::teacherBytes(std::int64_t tokens, std::int64_t vocab) const
{
    if (!usesTeacher())
        return 0;
    const auto t = static_cast<double>(tokens);
    if (teacher == "top-k") {
        // float32 log-probabilities of the K kept tokens and of the rest, int32 token ids.
        const double k = static_cast<double>(std::min<std::int64_t>(teacherTopK, vocab));
        return t * ((k + 1) * 4.0 + k * 4.0);
    }
    return t * static_cast<double>(vocab) * (teacher == "float32" ? 4.0 : 2.0);
}

std::string PruneOptions::teacherDescription(std::int64_t tokens, std::int64_t vocab) const
{
    if (!usesTeacher())
        return {};
    const std::string size = gib(teacherBytes(tokens, vocab)) + " for " + std::to_string(tokens) + " tokens x "
        + std::to_string(vocab) + " (budget " + number(teacherBudgetMiB) + " MiB)";
    if (teacher == "top-k")
        return "top-" + std::to_string(teacherTopK)
            + " of the dense model's log-probabilities plus one bucket for the rest, on the host; fitness = KL "
              "over those buckets, a lower bound of the full KL; "
            + size;
    return "the dense model's logits in " + teacher + " on the host; " + size;
}

void PruneOptions::checkTeacherBudget(std::int64_t tokens, std::int64_t vocab) const
{
    const double bytes = teacherBytes(tokens, vocab);
    const double budget = teacherBudgetMiB * 1024.0 * 1024.0;
    if (bytes <= budget)
        return;
    PruneOptions topK = *this;
    topK.teacher = "top-k";
    topK.teacherTopK = std::max(MinTopK, teacherTopK);
    std::string advice = teacher == "top-k"
        ? "use fewer calibration windows (calibration_windows) or a larger teacher_budget_mib"
        : "use teacher=top-k (top-" + std::to_string(topK.teacherTopK) + ": " + gib(topK.teacherBytes(tokens, vocab))
            + "), fewer calibration windows (calibration_windows), or a larger teacher_budget_mib";
    fail("teacher_budget_mib",
        "EvoPress's teacher (the dense model on " + std::to_string(tokens) + " calibration tokens x a "
            + std::to_string(vocab) + "-token vocabulary) takes " + gib(bytes) + " as " + teacher
            + ", over the budget of " + number(teacherBudgetMiB) + " MiB (" + gib(budget) + "); " + advice);
}

} // namespace blockscope
