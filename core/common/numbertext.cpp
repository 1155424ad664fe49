#include "numbertext.h"

#include <cmath>
#include <cstdio>

namespace blockscope {

std::string numberText(double value, const char *format, std::string_view missing)
{
    if (!std::isfinite(value))
        return std::string(missing);
    char buf[64];
    std::snprintf(buf, sizeof buf, format, value);
    return buf;
}

} // namespace blockscope
