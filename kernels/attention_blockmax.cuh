#pragma once

// Dense causal attention forward that also yields the block-level ground truth of
// seerattention.md §2 without the N x N matrix: per row i and key tile J <= I the maximum score
// r[i,J], the final online-softmax state m_i and l_i, then G[I,J] = max_{i in I} exp(r[i,J] − m_i)
// / l_i (not row-normalised), optionally the dense output, and optionally the block mass map
// Msum[i,J] = Σ_{j in J, j <= i} exp(s_ij − lse_i) in a second pass over the keys.
// CPU reference: blockscope::sparse::blockAttentionMaps in core/sparse/attentionkernels.cpp.

#include "attention_types.cuh"

#include <cstdint>
#include <cuda_runtime_api.h>

struct bs_attention_blockmax_args
{
    const void *q; // [batch, q_heads, tokens, head_dim], contiguous, dtype
    const void *k; // [batch, kv_heads, tokens, head_dim]; query head h reads KV head h / (q_heads / kv_heads)
    const void *v; // like k; may be null when o is null
    void *o; // dense causal output [batch, q_heads, tokens, head_dim] or null
    void *tile_max; // r [batch, q_heads, tokens, nb] scratch: float, or bf16 when bf16_intermediates
    float *row_max; // m [batch, q_heads, tokens]
    float *row_sum; // l [batch, q_heads, tokens]
    float *block_max; // G [batch, q_heads, nb, nb], zero above the diagonal
    float *mass; // Msum [batch, q_heads, tokens, nb] or null; zero above the diagonal
    std::int64_t batch;
    std::int64_t q_heads;
    std::int64_t kv_heads;
    std::int64_t tokens;
    int head_dim;
    int block_size; // 16, 32 or 64
    float scale;
    bs_attn_dtype dtype;
    bool bf16_intermediates; // store r and G rounded to bf16, as the official Triton kernel does
};

// Enqueues the passes on `stream`. Returns cudaErrorInvalidValue for bad sizes or a head dimension
// whose tiles exceed the device's shared memory, otherwise the first launch error.
cudaError_t bs_attention_blockmax(const bs_attention_blockmax_args &args, cudaStream_t stream);
