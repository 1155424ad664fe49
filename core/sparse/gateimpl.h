#pragma once

// The inside of a GateSet and the pieces the core/sparse sources share. LibTorch header.

#include "blockmask.h"
#include "gateops.h"
#include "gates.h"

#include <vector>

namespace blockscope {
struct AttentionInputs;
}

namespace blockscope::sparse {

struct GateSet::Impl
{
    GateConfig config;
    std::vector<GateLayerWeights> layers;
    at::Tensor invFreq; // [d_g/2] float32, CPU

    GateGeometry geometry() const;
    // S [b, Hq, nb, nb] float32 for one attention sublayer's inputs.
    at::Tensor logits(const AttentionInputs &in) const;
};

// A [nb, nb] float tensor (any device) as a plain grid, and back.
BlockGrid toGrid(const at::Tensor &square);
at::Tensor toTensor(const BlockGrid &grid);
// Masks for every (batch, head) -> bool [b, H, nb, nb] on `device`.
at::Tensor masksToTensor(const std::vector<BlockMask> &masks, std::int64_t b, std::int64_t heads, at::Device device);

} // namespace blockscope::sparse
