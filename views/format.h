#pragma once

#include <QString>

#include <cstdint>
#include <optional>
#include <vector>

// Text for numbers shown in tables, panes and the jobs panel. Pure functions, so tests pin the
// exact strings without a widget, and every view formats a value the same way.
namespace blockscope::views {

// Binary units with two decimals ("1.50 KiB"); plain bytes below 1 KiB ("512 B").
QString formatBytes(std::uint64_t bytes);
// Thousands separated by commas whatever the locale, so screenshots and tests match ("260,032").
QString formatCount(std::uint64_t n);
// Four significant digits, switching to exponent form for very large or small magnitudes; an
// em dash for NaN (a tensor with no finite values has no min or max).
QString formatStat(double value);
// A fraction as a percentage with two decimals ("12.50 %").
QString formatPercent(double fraction);
// "64 × 512"; "scalar" for a rank-0 tensor.
QString formatShape(const std::vector<std::int64_t> &shape);
// "0.4 s" under ten seconds, "42 s" under a minute, then "3:05" and "1:02:03".
QString formatDuration(double seconds);

} // namespace blockscope::views
