#pragma once

// Block-sparse causal attention forward (seerattention.md §6): for query token i in block I,
// O_i = softmax over K_i = { j <= i : tile (I, block(j)) selected } of q_i·k_j·scale, times V,
// with O_i = 0 and lse_i = -inf when K_i is empty. FlashAttention-2 style: one thread block per
// (query tile, query head, batch), online softmax in fp32, unselected tiles never loaded.
// CPU reference: blockscope::sparse::blockSparseAttention in core/sparse/attentionkernels.cpp.

#include "attention_types.cuh"

#include <cstdint>
#include <cuda_runtime_api.h>

struct bs_block_sparse_args
{
    const void *q; // [batch, q_heads, tokens, head_dim], contiguous, dtype
    const void *k; // [batch, kv_heads, tokens, head_dim]; query head h reads KV head h / (q_heads / kv_heads)
    const void *v; // like k
    void *o; // [batch, q_heads, tokens, head_dim], dtype
    float *lse; // [batch, q_heads, tokens] or null
    // Exactly one of: a bitmask [batch, q_heads, nb, nb] (nonzero = selected; cells above the
    // diagonal ignored), or index lists [batch, q_heads, nb, max_sel] in descending J, -1 padded.
    const std::uint8_t *mask;
    const std::int32_t *indices;
    int max_sel;
    std::int64_t batch;
    std::int64_t q_heads;
    std::int64_t kv_heads;
    std::int64_t tokens;
    int head_dim; // the tile kernel keeps fp32 tiles in shared memory: d <= 128 at B = 64 on A100
    int block_size; // 16, 32 or 64 (query and key tiles are one mask block)
    float scale;
    bs_attn_dtype dtype;
};

// Enqueues the kernel on `stream`. Returns cudaErrorInvalidValue for bad sizes or a head
// dimension whose tiles exceed the device's shared memory, otherwise the launch status.
cudaError_t bs_block_sparse_attention(const bs_block_sparse_args &args, cudaStream_t stream);
