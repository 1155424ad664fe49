#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace blockscope {

// Returns the byte index of the first invalid UTF-8 sequence (overlong forms, surrogates and
// code points above U+10FFFF are invalid), or nullopt when the whole string is valid.
std::optional<std::size_t> firstInvalidUtf8(std::string_view s);

inline bool isValidUtf8(std::string_view s)
{
    return !firstInvalidUtf8(s).has_value();
}

} // namespace blockscope
