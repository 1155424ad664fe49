#include "block_sparse_attention.cuh"

#include "attention_tile.cuh"

cudaError_t bs_block_sparse_attention(const bs_block_sparse_args &a, cudaStream_t stream)
{
    if (a.v == nullptr || a.o == nullptr)
        return cudaErrorInvalidValue;
    if ((a.mask == nullptr) == (a.indices == nullptr) || (a.indices != nullptr && a.max_sel < 0))
        return cudaErrorInvalidValue;
    bs_attn::tile_params p{};
    bool empty = false;
    const cudaError_t err = bs_attn::shape_params(a, p, empty);
    if (err != cudaSuccess || empty)
        return err;
    p.lse = a.lse;
    p.mask = a.mask;
    p.indices = a.indices;
    p.max_sel = a.max_sel;
    return bs_attn::launch_tile_for<bs_attn::mode_sparse>(a.dtype, p, a.batch, a.block_size, true, stream);
}
