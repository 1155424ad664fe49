#include "masksource.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace blockscope::sparse {

namespace {
constexpr std::pair<MaskSource, const char *> sourceNames[] = {{MaskSource::Gates, "gates"},
    {MaskSource::Oracle, "oracle"}, {MaskSource::Static, "static"}, {MaskSource::Random, "random"}};
} // namespace

const char *maskSourceName(MaskSource source)
{
    for (const auto &[s, name] : sourceNames)
        if (s == source)
            return name;
    return "?";
}

std::optional<MaskSource> maskSourceFromName(const std::string &name)
{
    for (const auto &[s, n] : sourceNames)
        if (name == n)
            return s;
    return std::nullopt;
}

const char *maskSourceNames()
{
    return "gates, oracle, static, random";
}

bool maskSourceHasScores(MaskSource source)
{
    return source == MaskSource::Gates || source == MaskSource::Oracle;
}

BlockGrid oracleLogits(const BlockGrid &truth)
{
    BlockGrid logits(truth.nb, -80.0f);
    for (int i = 0; i < truth.nb; ++i)
        for (int j = 0; j <= i; ++j)
            logits.at(i, j) = std::max(std::log(std::max(truth.at(i, j), 1e-30f)), -80.0f);
    return logits;
}

BlockMask headMask(MaskSource source, const HeadScores &scores, const MaskRule &rule)
{
    if (!maskSourceHasScores(source) && rule.kind != MaskRule::Kind::Density)
        throw std::invalid_argument(
            std::string("the ") + maskSourceName(source) + " baseline takes a density, not a threshold");
    switch (source) {
    case MaskSource::Gates:
        if (!scores.gateLogits || scores.gateLogits->nb == 0)
            throw std::invalid_argument("gate masks need gate logits (no gates are loaded)");
        return selectMask(*scores.gateLogits, rule);
    case MaskSource::Oracle:
        if (!scores.truth || scores.truth->nb == 0)
            throw std::invalid_argument("oracle masks need the ground-truth block map");
        return selectMask(oracleLogits(*scores.truth), rule);
    case MaskSource::Static: return staticMask(scores.nb, rule.value, rule.lastBlockDense);
    case MaskSource::Random: return randomMask(scores.nb, rule.value, scores.seed, rule.lastBlockDense);
    }
    throw std::invalid_argument("unknown mask source");
}

MaskStats meanOverHeads(const std::vector<MaskStats> &heads)
{
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    MaskStats m;
    if (heads.empty())
        return m;
    const double n = static_cast<double>(heads.size());
    double p5 = 0;
    bool p5Known = true;
    m.recallMin = std::numeric_limits<double>::infinity();
    for (const auto &st : heads) {
        m.tileDensity += st.tileDensity / n;
        m.tileDensityLearned += st.tileDensityLearned / n;
        m.pairDensity += st.pairDensity / n;
        m.recallMean += st.recallMean / n;
        p5Known = p5Known && !std::isnan(st.recallP5);
        p5 += st.recallP5 / n;
        m.recallMin = std::isnan(st.recallMin) || std::isnan(m.recallMin) ? nan : std::min(m.recallMin, st.recallMin);
        m.emptyRows += st.emptyRows;
    }
    m.recallP5 = p5Known ? p5 : nan;
    return m;
}

} // namespace blockscope::sparse
