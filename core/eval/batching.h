#pragma once

// Internal to the LibTorch side of core: windows grouped into batches of equal shape, and the
// forward of a batch through a range of blocks that a cancel stops between blocks.

#include "windows.h"

#include <ATen/Tensor.h>

#include <cstddef>
#include <vector>

namespace blockscope {

class Decoder;
class JobContext;
struct UnitMask;

// Indices of windows of equal length and first target, at most `per` to a batch, in window order
// within each shape.
std::vector<std::vector<std::size_t>> equalShapeBatches(const WindowSet &set, std::size_t per);
// The token ids of those windows as a [B, T] int64 CPU tensor.
at::Tensor batchTokens(const WindowSet &set, const std::vector<std::size_t> &idx);

// Decoder::forwardBlocks one block at a time with a checkpoint before each (JobCancelled), so a
// cancel is seen within one block's forward however deep the model and large the batch; the same
// numbers as one call. `job` may be null.
at::Tensor forwardBlocksCancellable(
    const Decoder &decoder, at::Tensor hidden, int first, int last, const UnitMask &mask, const JobContext *job);

} // namespace blockscope
