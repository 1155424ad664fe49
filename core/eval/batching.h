#pragma once

// Internal to the LibTorch side of core: windows grouped into batches of equal shape.

#include "windows.h"

#include <ATen/Tensor.h>

#include <cstddef>
#include <vector>

namespace blockscope {

// Indices of windows of equal length and first target, at most `per` to a batch, in window order
// within each shape.
std::vector<std::vector<std::size_t>> equalShapeBatches(const WindowSet &set, std::size_t per);
// The token ids of those windows as a [B, T] int64 CPU tensor.
at::Tensor batchTokens(const WindowSet &set, const std::vector<std::size_t> &idx);

} // namespace blockscope
