#pragma once

#include <string>

namespace blockscope {

// The current time as ISO 8601 in UTC, to the second: "2026-11-29T11:05:48Z".
std::string utcTimestamp();

} // namespace blockscope
