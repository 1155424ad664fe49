#pragma once

// The tensor operations of the AttnGate (seerattention.md §1, §3), shared by the gate set, the
// trainer, the evaluation and the tests. LibTorch header: core-internal.

#include "model/architecture.h"

#include <ATen/Tensor.h>

#include <cstdint>

namespace blockscope::sparse {

// Ceil-mode average over blocks of B tokens along dim 1 of x [b, N, H, d] -> [b, nb, H, d]; the last
// partial block averages its valid tokens only.
at::Tensor avgPoolBlocks(const at::Tensor &x, int blockSize);
// [max, min, avg] pooled along dim 1 and concatenated on the channels: [b, N, H, d] -> [b, nb, H, 3d].
at::Tensor maxMinAvgPoolBlocks(const at::Tensor &x, int blockSize);

struct GateLayerWeights
{
    at::Tensor wk; // [Hk', 3d, d_g]
    at::Tensor wq; // [Hq, d, d_g] or undefined
};

struct GateGeometry
{
    std::int64_t qHeads = 0, kvHeads = 0, headDim = 0, gateDim = 0;
    int blockSize = 64;
    RopeLayout ropeLayout = RopeLayout::RotateHalf;
    at::Tensor invFreq; // [d_g / 2] float32 (the base model's θ and scaling at head dim d_g)
};

// Block logits S [b, Hq, nb, nb] (float32) from pooled features: qPool [b, nb, Hq, d],
// kPool [b, nb, Hkv, 3d]. Above the diagonal S holds finfo(float).min.
at::Tensor gateLogitsFromPooled(
    const at::Tensor &qPool, const at::Tensor &kPool, const GateLayerWeights &w, const GateGeometry &g);

// §3 for one layer: Σ y·(log y − log_softmax(S)) over query-block rows >= nb/4, divided by
// b·Hq·(nb − off)·nb; `truth` is Ĝ [b, Hq, nb, nb]. Returns a scalar float32 tensor (with grad
// when S has one).
at::Tensor gateDistillationLoss(const at::Tensor &logits, const at::Tensor &truth);

} // namespace blockscope::sparse
