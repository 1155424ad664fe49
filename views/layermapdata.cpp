#include "layermapdata.h"

#include "prune/pruneoptions.h"
#include "prune/trace.h"

#include <QCoreApplication>

#include <algorithm>
#include <cmath>
#include <limits>

namespace blockscope::views {

LayerMapData LayerMapData::dense(int layers)
{
    LayerMapData d;
    d.layers = std::max(layers, 0);
    const auto n = static_cast<std::size_t>(d.layers);
    d.attnScore.assign(n, std::numeric_limits<double>::quiet_NaN());
    d.mlpScore = d.attnScore;
    d.attnBound.assign(n, false);
    d.mlpBound = d.attnBound;
    d.removed = UnitMask::dense(d.layers);
    d.attnOrder.assign(n, 0);
    d.mlpOrder.assign(n, 0);
    return d;
}

LayerMapData LayerMapData::fromStep(const TraceStep &step, int layers)
{
    LayerMapData d = dense(step.mask.layers() > 0 ? step.mask.layers() : layers);
    if (step.mask.layers() == d.layers)
        d.removed = step.mask;
    auto inRange = [&](int l) { return l >= 0 && l < d.layers; };
    for (const auto &c : step.candidates) {
        if (!inRange(c.unit.layer))
            continue;
        const auto l = static_cast<std::size_t>(c.unit.layer);
        if (c.unit.kind != UnitKind::Mlp) {
            d.attnScore[l] = c.score;
            d.attnBound[l] = c.lowerBound;
        }
        if (c.unit.kind != UnitKind::Attention) {
            d.mlpScore[l] = c.score;
            d.mlpBound[l] = c.lowerBound;
        }
    }
    // One-shot methods score blocks, not candidates.
    if (step.candidates.empty() && static_cast<int>(step.blockScores.size()) == d.layers)
        for (std::size_t l = 0; l < step.blockScores.size(); ++l)
            d.attnScore[l] = d.mlpScore[l] = step.blockScores[l];

    // Greedy methods record the order; a one-shot step lists its removed set in rank order.
    const auto &order = step.removedSoFar.empty() ? step.chosen : step.removedSoFar;
    int position = 0;
    for (const auto &u : order) {
        ++position;
        if (!inRange(u.layer))
            continue;
        const auto l = static_cast<std::size_t>(u.layer);
        if (u.kind != UnitKind::Mlp && d.attnOrder[l] == 0)
            d.attnOrder[l] = position;
        if (u.kind != UnitKind::Attention && d.mlpOrder[l] == 0)
            d.mlpOrder[l] = position;
    }
    return d;
}

bool LayerMapData::hasScores() const
{
    for (std::size_t l = 0; l < attnScore.size(); ++l)
        if (!std::isnan(attnScore[l]) || !std::isnan(mlpScore[l]))
            return true;
    return false;
}

QString LayerMapData::scoreLabelFor(const PruneOptions &options)
{
    auto tr = [](const char *s) { return QCoreApplication::translate("LayerMapData", s); };
    switch (options.method) {
    case PruneMethod::Sleb: return tr("calibration NLL sum without the block");
    case PruneMethod::FinerCut:
        return tr("%1 to dense without the unit").arg(QString::fromStdString(options.finercutMetric).toUpper());
    case PruneMethod::EvoPress: return tr("no candidate scores (evolutionary)");
    case PruneMethod::ShortGpt: return tr("block influence (1 \u2212 cos)");
    case PruneMethod::Angular: return tr("angular distance from the block");
    }
    return {};
}

} // namespace blockscope::views
