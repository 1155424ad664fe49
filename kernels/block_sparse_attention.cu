#include "block_sparse_attention.cuh"

#include "attention_tile.cuh"

cudaError_t bs_block_sparse_attention(const bs_block_sparse_args &a, cudaStream_t stream)
{
    if (a.q == nullptr || a.k == nullptr || a.v == nullptr || a.o == nullptr || a.batch < 0 || a.q_heads <= 0
        || a.kv_heads <= 0 || a.q_heads % a.kv_heads != 0 || a.tokens < 0 || a.head_dim <= 0)
        return cudaErrorInvalidValue;
    if ((a.mask == nullptr) == (a.indices == nullptr) || (a.indices != nullptr && a.max_sel < 0))
        return cudaErrorInvalidValue;
    if (a.block_size != 16 && a.block_size != 32 && a.block_size != 64)
        return cudaErrorInvalidValue;
    if (a.batch == 0 || a.tokens == 0)
        return cudaSuccess;
    const std::int64_t nb = (a.tokens + a.block_size - 1) / a.block_size;
    if (nb > 0x7fffffff || a.q_heads > 65535 || a.batch > 65535)
        return cudaErrorInvalidValue;

    bs_attn::tile_params p{};
    p.q = a.q;
    p.k = a.k;
    p.v = a.v;
    p.o = a.o;
    p.lse = a.lse;
    p.mask = a.mask;
    p.indices = a.indices;
    p.max_sel = a.max_sel;
    p.heads = a.q_heads;
    p.kv_heads = a.kv_heads;
    p.tokens = a.tokens;
    p.head_dim = a.head_dim;
    p.padded_dim = (a.head_dim + 3) / 4 * 4;
    p.nb = (int)nb;
    p.scale = a.scale;

    using bs_attn::mode_sparse;
    switch (a.dtype) {
    case bs_attn_dtype::f32:
        return bs_attn::launch_tile_for_block<float, mode_sparse>(p, a.batch, a.block_size, true, stream);
    case bs_attn_dtype::f16:
        return bs_attn::launch_tile_for_block<__half, mode_sparse>(p, a.batch, a.block_size, true, stream);
    case bs_attn_dtype::bf16:
        return bs_attn::launch_tile_for_block<__nv_bfloat16, mode_sparse>(p, a.batch, a.block_size, true, stream);
    }
    return cudaErrorInvalidValue;
}
