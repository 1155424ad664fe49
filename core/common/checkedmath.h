#pragma once

#include <cstdint>
#include <optional>

namespace blockscope {

// Sizes in checkpoint headers are attacker-controlled: every product and sum goes through
// these, and an overflow is reported by the caller as a format error.
inline std::optional<std::uint64_t> checkedAdd(std::uint64_t a, std::uint64_t b)
{
    std::uint64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return std::nullopt;
    return r;
}

inline std::optional<std::uint64_t> checkedMul(std::uint64_t a, std::uint64_t b)
{
    std::uint64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return std::nullopt;
    return r;
}

} // namespace blockscope
