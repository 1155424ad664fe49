#include "scorecolourmap.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace blockscope::views {

namespace {
// Viridis (matplotlib) at nine even stops; between stops the colour is interpolated in sRGB,
// which stays within 1/255 of the full 256-entry table.
constexpr std::array<std::array<int, 3>, 9> viridis = {{
    {68, 1, 84},
    {71, 44, 122},
    {59, 81, 139},
    {44, 113, 142},
    {33, 144, 141},
    {39, 173, 129},
    {92, 200, 99},
    {170, 220, 50},
    {253, 231, 37},
}};
} // namespace

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
    t = std::clamp(std::isnan(t) ? 0.0 : t, 0.0, 1.0);
    const double x = t * static_cast<double>(viridis.size() - 1);
    const auto i = std::min(static_cast<std::size_t>(x), viridis.size() - 2);
    const double f = x - static_cast<double>(i);
    auto mix
        = [&](int c) { return static_cast<int>(std::lround(viridis[i][c] + f * (viridis[i + 1][c] - viridis[i][c]))); };
    return QColor(mix(0), mix(1), mix(2));
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
