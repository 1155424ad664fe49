#include "format.h"

#include <QStringList>

#include <cmath>

namespace blockscope::views {

QString formatBytes(std::uint64_t bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = static_cast<double>(bytes);
    int unit = 0;
    while (v >= 1024 && unit < 5) {
        v /= 1024;
        ++unit;
    }
    if (unit == 0)
        return QStringLiteral("%1 B").arg(bytes);
    return QStringLiteral("%1 %2").arg(v, 0, 'f', 2).arg(QLatin1String(units[unit]));
}

QString formatCount(std::uint64_t n)
{
    QString digits = QString::number(n);
    for (qsizetype i = digits.size() - 3; i > 0; i -= 3)
        digits.insert(i, QLatin1Char(','));
    return digits;
}

QString formatStat(double value)
{
    if (std::isnan(value))
        return QStringLiteral("\u2014");
    if (std::isinf(value))
        return value > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
    if (value == 0)
        return QStringLiteral("0");
    return QString::number(value, 'g', 4);
}

QString formatPercent(double fraction)
{
    return QStringLiteral("%1 %").arg(100.0 * fraction, 0, 'f', 2);
}

QString formatShape(const std::vector<std::int64_t> &shape)
{
    if (shape.empty())
        return QStringLiteral("scalar");
    QStringList parts;
    for (std::int64_t d : shape)
        parts << QString::number(d);
    return parts.join(QStringLiteral(" \u00d7 "));
}

QString formatDuration(double seconds)
{
    if (!(seconds >= 0))
        return QStringLiteral("?");
    if (seconds < 10)
        return QStringLiteral("%1 s").arg(seconds, 0, 'f', 1);
    if (seconds < 60)
        return QStringLiteral("%1 s").arg(static_cast<int>(seconds));
    const auto total = static_cast<qint64>(seconds);
    const qint64 h = total / 3600, m = (total / 60) % 60, s = total % 60;
    if (h == 0)
        return QStringLiteral("%1:%2").arg(m).arg(s, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2:%3").arg(h).arg(m, 2, 10, QLatin1Char('0')).arg(s, 2, 10, QLatin1Char('0'));
}

} // namespace blockscope::views
