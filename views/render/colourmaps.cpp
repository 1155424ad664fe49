#include "colourmaps.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace blockscope::render {

namespace {
constexpr std::array<std::array<int, 3>, 9> viridisStops = {{
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

int mixChannel(int a, int b, double f)
{
    return static_cast<int>(std::lround(a + f * (b - a)));
}

QRgb mix(QRgb a, QRgb b, double f)
{
    return qRgb(
        mixChannel(qRed(a), qRed(b), f), mixChannel(qGreen(a), qGreen(b), f), mixChannel(qBlue(a), qBlue(b), f));
}

QString powerOfTen(int exponent)
{
    // Plain decimals near 1 ("0.001", "100"), exponents beyond ("1e-5").
    if (exponent >= -3 && exponent <= 3)
        return QString::number(std::pow(10.0, exponent), 'g', 4);
    return QStringLiteral("1e%1").arg(exponent);
}
} // namespace

QRgb viridis(double t)
{
    t = std::clamp(std::isnan(t) ? 0.0 : t, 0.0, 1.0);
    const double x = t * static_cast<double>(viridisStops.size() - 1);
    const auto i = std::min(static_cast<std::size_t>(x), viridisStops.size() - 2);
    const double f = x - static_cast<double>(i);
    const auto &a = viridisStops[i];
    const auto &b = viridisStops[i + 1];
    return qRgb(mixChannel(a[0], b[0], f), mixChannel(a[1], b[1], f), mixChannel(a[2], b[2], f));
}

QRgb backgroundColour()
{
    return qRgb(0xfa, 0xfa, 0xfa);
}

QRgb forcedColour()
{
    return qRgb(0xe6, 0x55, 0x0d);
}

double ValueScale::position(double value) const
{
    if (std::isnan(value))
        return value;
    if (!(high > low))
        return 0.5;
    double v = value;
    if (kind == Kind::Log10) {
        if (value <= 0)
            return 0.0;
        v = std::log10(value);
    }
    return std::clamp((v - low) / (high - low), 0.0, 1.0);
}

QRgb ValueScale::colour(double value) const
{
    const double t = position(value);
    return std::isnan(t) ? backgroundColour() : viridis(t);
}

std::vector<ValueScale::Tick> ValueScale::ticks() const
{
    std::vector<Tick> out;
    if (!(high > low))
        return out;
    if (kind == Kind::Log10) {
        // Every power of ten when there are few, else every second or third.
        const int first = static_cast<int>(std::ceil(low - 1e-9));
        const int last = static_cast<int>(std::floor(high + 1e-9));
        const int step = std::max(1, (last - first + 7) / 8);
        for (int e = last; e >= first; e -= step)
            out.push_back({(e - low) / (high - low), powerOfTen(e)});
        std::reverse(out.begin(), out.end());
        return out;
    }
    const double span = high - low;
    const double raw = span / 4.0;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * magnitude >= raw) {
            step = m * magnitude;
            break;
        }
    for (double v = std::ceil(low / step - 1e-9) * step; v <= high + 1e-9 * span; v += step)
        out.push_back({(v - low) / span, QString::number(std::abs(v) < 1e-12 * span ? 0.0 : v, 'g', 4)});
    return out;
}

QString ValueScale::describe(double value) const
{
    if (std::isnan(value))
        return QStringLiteral("\u2014");
    if (kind == Kind::Log10) {
        if (value <= 0)
            return QStringLiteral("0");
        return QStringLiteral("%1 (log10 %2)").arg(QString::number(value, 'g', 3)).arg(std::log10(value), 0, 'f', 2);
    }
    return QString::number(value, 'g', 4);
}

QRgb maskedColour(QRgb colour, double kept, bool forced)
{
    if (forced)
        return mix(colour, forcedColour(), 0.45);
    kept = std::clamp(std::isnan(kept) ? 0.0 : kept, 0.0, 1.0);
    if (kept >= 1.0)
        return colour;
    // Rec. 709 luma keeps the lightness order of viridis (grey 93 for its dark end, 213 for its
    // bright one, both apart from the near-white background), so a dropped cell still shows how
    // much attention it held.
    const double y = 0.2126 * qRed(colour) + 0.7152 * qGreen(colour) + 0.0722 * qBlue(colour);
    const int g = static_cast<int>(std::lround(0.6 * y + 0.4 * 200.0));
    return mix(qRgb(g, g, g), colour, kept);
}

} // namespace blockscope::render
