#pragma once

// Block-sparse attention and the block-level ground-truth attention map (seerattention.md §2, §6,
// §7): CPU references (the oracle, and what runs on CPU) and dispatch to the CUDA kernels in
// kernels/ when the tensors live on a GPU. Tensor checks happen here, never in the kernels.
//
// Layouts follow the kernel contract: q [b, Hq, N, d], k and v [b, Hkv, N, d] with Hq a multiple
// of Hkv (query head h reads KV head h / (Hq / Hkv)); block size B; nb = ceil(N / B); block I
// holds tokens [I·B, min((I+1)·B, N)). float32 on CPU (float64 accepted for tests); float32,
// float16 or bfloat16 on CUDA. Every function throws std::invalid_argument naming the tensor at
// fault (shape, dtype, device) rather than reading out of bounds.

#include <ATen/Tensor.h>

#include <cstdint>

namespace blockscope::sparse {

struct SparseAttentionResult
{
    at::Tensor output; // [b, Hq, N, d], dtype of q; a token with no selected key gets 0
    at::Tensor lse; // [b, Hq, N] float32 log-sum-exp of the selected scores (-inf for empty rows)
    std::int64_t emptyRows = 0; // tokens whose selected key set K_i is empty
};

// §6: O[h,i] = softmax over K_i = { j <= i : mask[h, I, block(j)] } of q_i·k_j·scale, times v.
// `mask` is a bool (or uint8) bitmask [b, Hq, nb, nb]; cells above the diagonal are ignored.
SparseAttentionResult blockSparseAttention(
    const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, const at::Tensor &mask, int blockSize, double scale);

// The same with per-row index lists [b, Hq, nb, maxSel] int32, descending J, padded with -1.
SparseAttentionResult blockSparseAttentionIndexed(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
    const at::Tensor &indices, int blockSize, double scale);

// Bitmask -> index lists as §6 lays them out (descending J, -1 padding, maxSel = widest row).
at::Tensor maskToIndexLists(const at::Tensor &mask);

struct BlockAttentionMaps
{
    at::Tensor truth; // Ĝ [b, Hq, nb, nb] float32: 2D max of the exact softmax per causal tile, row-normalised
    at::Tensor blockMax; // G before normalisation [b, Hq, nb, nb]
    at::Tensor mass; // Msum [b, Hq, N, nb] float32: softmax mass of token i in key block J (empty unless wanted)
    at::Tensor output; // dense causal attention output [b, Hq, N, d] (empty unless wanted)
};

// §2 ground truth, streamed tile by tile with an online softmax (never the N x N matrix), plus
// the block mass map of §2/§7 when `withMass`, and the dense output when `withOutput`.
// On CUDA, `bf16Parity` stores the intermediates in bfloat16 as the official kernel does.
BlockAttentionMaps blockAttentionMaps(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, int blockSize,
    double scale, bool withMass = false, bool withOutput = false, bool bf16Parity = false);

// The same from the explicit attention matrix (short sequences; the test oracle for the above).
BlockAttentionMaps blockAttentionMapsExplicit(
    const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, int blockSize, double scale, bool withMass = false);

// §7 one-pass recall: for every token, the share of its dense softmax mass inside the selected
// tiles (l_sel / l_all under one running max). [b, Hq, N] float32; 1 for a full mask.
at::Tensor attentionMassRecall(
    const at::Tensor &q, const at::Tensor &k, const at::Tensor &mask, int blockSize, double scale);

// Whether the CUDA kernels were compiled in (BLOCKSCOPE_HAVE_CUDA) — not whether a GPU is present.
bool sparseKernelsCompiled();

} // namespace blockscope::sparse
