#pragma once

#include <string>
#include <string_view>

namespace blockscope {

// `value` through a printf format for one double ("%.4g", "%.2f"); `missing` for NaN and the
// infinities. What the CLI's tables, the reports and the CSV writer print numbers with.
std::string numberText(double value, const char *format, std::string_view missing = {});

} // namespace blockscope
