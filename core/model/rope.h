#pragma once

#include "architecture.h"

#include <ATen/Tensor.h>

namespace blockscope {

// RoPE inverse frequencies [headDim/2] in float32, with linear or llama3 scaling (formats.md §6).
at::Tensor ropeInverseFrequencies(const Architecture &arch);

// Rotates q or k [B, heads, T, hd] at positions offset..offset+T-1 in the given layout.
// cos/sin are [T, hd/2] float32 tables from ropeTables.
at::Tensor applyRope(const at::Tensor &x, const at::Tensor &cos, const at::Tensor &sin, RopeLayout layout);

struct RopeTables
{
    at::Tensor cos; // [T, hd/2] float32
    at::Tensor sin;
};
RopeTables ropeTables(const at::Tensor &invFreq, std::int64_t offset, std::int64_t length);

} // namespace blockscope
