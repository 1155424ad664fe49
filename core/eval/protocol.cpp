#include "protocol.h"

#include <sstream>
#include <stdexcept>
#include <utility>

namespace blockscope {

std::string formulaName(PplFormula f)
{
    switch (f) {
    case PplFormula::F1MeanOfWindows: return "F1 exp(mean of window NLL)";
    case PplFormula::F2TokenWeighted: return "F2 token-weighted exp(sum NLL / tokens)";
    case PplFormula::F3MeanOfWindowPpl: return "F3 mean of window perplexities";
    case PplFormula::F4Strided: return "F4 strided, each target once";
    }
    return "?";
}

std::string bosName(BosPolicy b)
{
    switch (b) {
    case BosPolicy::None: return "none";
    case BosPolicy::StreamStart: return "stream start";
    case BosPolicy::EachWindow: return "each window";
    }
    return "?";
}

namespace {
// The spellings used in JSON, in both directions from one table each.
constexpr std::pair<PplFormula, const char *> formulaKeys[] = {{PplFormula::F1MeanOfWindows, "F1"},
    {PplFormula::F2TokenWeighted, "F2"}, {PplFormula::F3MeanOfWindowPpl, "F3"}, {PplFormula::F4Strided, "F4"}};
constexpr std::pair<BosPolicy, const char *> bosKeys[]
    = {{BosPolicy::None, "none"}, {BosPolicy::StreamStart, "stream"}, {BosPolicy::EachWindow, "window"}};

template<class E, std::size_t N>
const char *keyOf(const std::pair<E, const char *> (&table)[N], E value)
{
    for (const auto &[v, k] : table)
        if (v == value)
            return k;
    return "?";
}

template<class E, std::size_t N>
E valueOf(const std::pair<E, const char *> (&table)[N], const std::string &key, const char *field)
{
    for (const auto &[v, k] : table)
        if (key == k)
            return v;
    throw std::invalid_argument(std::string("protocol field \"") + field + "\" has unknown value \"" + key + "\"");
}

const char *formulaKey(PplFormula f)
{
    return keyOf(formulaKeys, f);
}
const char *bosKey(BosPolicy b)
{
    return keyOf(bosKeys, b);
}
} // namespace

nlohmann::json Protocol::toJson() const
{
    nlohmann::json j = {{"preset", preset}, {"text_source", textSource}, {"reconstruction", reconstruction},
        {"selection", selection}, {"seed", seed}, {"tokenizer", tokenizer}, {"bos", bosKey(bos)}, {"context", context},
        {"stride", stride}, {"formula", formulaKey(formula)}, {"max_windows", maxWindows}, {"windows", windows},
        {"tokens", tokens}, {"scored_tokens", scoredTokens}, {"dtype", dtype}, {"device", device}};
    if (!teacher.empty())
        j["teacher"] = teacher;
    if (!pool.empty())
        j["pool"] = pool;
    return j;
}

Protocol Protocol::fromJson(const nlohmann::json &j)
{
    Protocol p;
    auto str = [&](const char *k, std::string &out) {
        if (!j.contains(k) || !j[k].is_string())
            throw std::invalid_argument(std::string("protocol field \"") + k + "\" must be a string");
        out = j[k].get<std::string>();
    };
    auto integer = [&](const char *k, std::int64_t &out) {
        if (!j.contains(k) || !j[k].is_number_integer())
            throw std::invalid_argument(std::string("protocol field \"") + k + "\" must be an integer");
        out = j[k].get<std::int64_t>();
    };
    str("preset", p.preset);
    str("text_source", p.textSource);
    str("reconstruction", p.reconstruction);
    str("selection", p.selection);
    str("tokenizer", p.tokenizer);
    str("dtype", p.dtype);
    str("device", p.device);
    if (j.contains("teacher")) // written only by searches that keep one
        str("teacher", p.teacher);
    if (j.contains("pool")) // absent from files written before pools were recorded
        str("pool", p.pool);
    std::int64_t seed = 0;
    integer("seed", seed);
    p.seed = static_cast<std::uint64_t>(seed);
    integer("context", p.context);
    integer("stride", p.stride);
    integer("max_windows", p.maxWindows);
    integer("windows", p.windows);
    integer("tokens", p.tokens);
    integer("scored_tokens", p.scoredTokens);
    std::string bos, formula;
    str("bos", bos);
    str("formula", formula);
    p.bos = valueOf(bosKeys, bos, "bos");
    p.formula = valueOf(formulaKeys, formula, "formula");
    return p;
}

std::string Protocol::card() const
{
    std::ostringstream s;
    s << "protocol:        " << preset << "\n"
      << "text:            " << textSource << "\n"
      << "reconstruction:  " << reconstruction << "\n"
      << "pool:            " << (pool.empty() ? std::string("not recorded") : pool) << "\n"
      << "selection:       " << selection << (seed ? " (seed " + std::to_string(seed) + ")" : std::string()) << "\n"
      << "tokenizer:       " << tokenizer << "\n"
      << "BOS:             " << bosName(bos) << "\n"
      << "context/stride:  " << context << " / " << stride << "\n"
      << "formula:         " << formulaName(formula) << "\n"
      << "windows:         " << windows << " (" << tokens << " tokens, " << scoredTokens << " scored)\n"
      << "model dtype:     " << dtype << " on " << device << "\n";
    if (!teacher.empty())
        s << "teacher:         " << teacher << "\n";
    return s.str();
}

std::string Protocol::oneLine() const
{
    std::ostringstream s;
    s << preset << ": T=" << context << " S=" << stride << " BOS " << bosName(bos) << ", " << formulaKey(formula)
      << ", " << windows << " windows, " << scoredTokens << " scored tokens";
    return s.str();
}

namespace {
// The presets of the specs (pruning.md §2): how each paper reconstructs, windows and scores its text.
struct Preset
{
    const char *name;
    const char *reconstruction;
    BosPolicy bos;
    int context, stride;
    PplFormula formula;
    const char *selection; // null: the default (all full windows)
};

constexpr const char *notOverlapping = "floor(tokens/T) non-overlapping windows, tail dropped";

const Preset presets[] = {
    {"tiny-ts",
        "paragraphs split on blank lines, stripped, space runs collapsed, empty dropped; "
        "each encoded without BOS and concatenated",
        BosPolicy::EachWindow, 512, 512, PplFormula::F2TokenWeighted, nullptr},
    {"sleb", "whole text, rows joined as in the file", BosPolicy::StreamStart, 2048, 2048, PplFormula::F1MeanOfWindows,
        notOverlapping},
    {"evopress", "whole text", BosPolicy::None, 4096, 4096, PplFormula::F2TokenWeighted, nullptr},
    {"sliding", "whole text", BosPolicy::StreamStart, 512, 256, PplFormula::F4Strided,
        "windows at 0, S, 2S, ...; each target scored once"},
    {"finercut", "whole text", BosPolicy::StreamStart, 256, 256, PplFormula::F3MeanOfWindowPpl, notOverlapping},
};
} // namespace

Protocol protocolPreset(const std::string &name)
{
    for (const Preset &preset : presets) {
        if (name != preset.name)
            continue;
        Protocol p;
        p.preset = name;
        p.reconstruction = preset.reconstruction;
        p.bos = preset.bos;
        p.context = preset.context;
        p.stride = preset.stride;
        p.formula = preset.formula;
        if (preset.selection)
            p.selection = preset.selection;
        return p;
    }
    throw std::invalid_argument("unknown protocol \"" + name + "\" (known: " + protocolPresetNames() + ")");
}

std::string protocolPresetNames()
{
    std::string names;
    for (const Preset &preset : presets)
        names += (names.empty() ? "" : ", ") + std::string(preset.name);
    return names;
}

} // namespace blockscope
