#pragma once

#include "dtype.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace blockscope {

float halfToFloat(std::uint16_t h);
float bfloat16ToFloat(std::uint16_t h);

// Converts `count` elements starting at element `first` of a tensor's raw bytes to float32.
// For block formats (Q8_0, Q4_K, ...), `first` and `count` must cover whole blocks.
void readAsFloat32(DType type, std::span<const std::byte> raw, std::uint64_t first, std::uint64_t count, float *out);

std::vector<float> readAllAsFloat32(DType type, std::span<const std::byte> raw, std::uint64_t count);

} // namespace blockscope
