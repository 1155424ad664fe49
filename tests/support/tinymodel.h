#pragma once

// Small random Llama-style models and windows for engine tests (LibTorch side of the support).

#include "eval/windows.h"
#include "model/architecture.h"

#include <ATen/Tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace blockscope {
class Decoder;
}

namespace blockscope::test {

struct TinyShape
{
    int layers = 3;
    int hidden = 32;
    int heads = 4;
    int kvHeads = 2;
    int headDim = 8;
    int intermediate = 64;
    int vocab = 64;
    int context = 64;
    RopeLayout rope = RopeLayout::RotateHalf;
};

Architecture tinyArchitecture(const TinyShape &shape);
// Random seeded weights; the blocks in `identity` get o_proj = down_proj = 0.
std::map<std::string, at::Tensor> tinyWeights(
    const TinyShape &shape, std::uint64_t seed, const std::set<int> &identity = {});
std::unique_ptr<Decoder> tinyDecoder(const TinyShape &shape, std::uint64_t seed, const std::set<int> &identity = {});
// n windows of [BOS=1] + T-1 seeded random tokens below `vocab`, under the tiny-ts protocol.
WindowSet randomWindows(int n, int T, std::uint64_t seed, int vocab = 64);
// One window as a [1, T] int64 tensor.
at::Tensor tokensOf(const TokenWindow &window);

} // namespace blockscope::test
