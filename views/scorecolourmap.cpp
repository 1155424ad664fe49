#include "scorecolourmap.h"

#include "render/colourmaps.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace blockscope::views {

ScoreColourMap ScoreColourMap::fitting(const std::vector<double> &values)
{
    ScoreColourMap map{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
    for (double v : values) {
        if (!std::isfinite(v))
            continue;
        map.low = std::min(map.low, v);
        map.high = std::max(map.high, v);
    }
    if (map.low > map.high)
        return {};
    if (map.low == map.high) {
        const double pad = map.low == 0 ? 1.0 : std::abs(map.low) * 0.5;
        map.low -= pad;
        map.high += pad;
    }
    return map;
}

double ScoreColourMap::position(double value) const
{
    if (std::isnan(value))
        return value;
    if (!(high > low))
        return 0.5;
    return std::clamp((value - low) / (high - low), 0.0, 1.0);
}

QColor ScoreColourMap::colour(double value) const
{
    const double t = position(value);
    return std::isnan(t) ? missingColour() : atPosition(t);
}

QColor ScoreColourMap::atPosition(double t)
{
    return QColor(render::viridis(t)); // the heatmaps' palette too
}

QColor ScoreColourMap::missingColour()
{
    return QColor(0xd9, 0xd9, 0xd9);
}

QColor ScoreColourMap::textColourOn(const QColor &background)
{
    // WCAG relative luminance; above 0.179 black text has the higher contrast ratio.
    auto linear = [](double c) { return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4); };
    const double y = 0.2126 * linear(background.redF()) + 0.7152 * linear(background.greenF())
        + 0.0722 * linear(background.blueF());
    return y > 0.179 ? QColor(Qt::black) : QColor(Qt::white);
}

} // namespace blockscope::views
