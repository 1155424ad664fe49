#include "attention_blockmax.cuh"

#include "attention_tile.cuh"

namespace {

// G[I,J] = max over the valid rows i of tile I of exp(r[i,J] − m_i) / l_i for J <= I, else 0.
// Grid (nb, heads, batch); threads stride over J so the reads of r are coalesced.
__global__ void block_max_kernel(const void *tile_max, bool bf16, const float *row_max, const float *row_sum,
    float *block_max, std::int64_t heads, std::int64_t tokens, int nb, int B)
{
    const int I = blockIdx.x;
    const std::int64_t head = (std::int64_t)blockIdx.z * heads + blockIdx.y;
    const std::int64_t q0 = (std::int64_t)I * B;
    const int rows = (int)(tokens - q0 < B ? tokens - q0 : B);
    float *out = block_max + (head * nb + I) * nb;
    for (int J = threadIdx.x; J < nb; J += blockDim.x) {
        float g = 0.0f;
        if (J <= I) {
            for (int r = 0; r < rows; ++r) {
                const std::int64_t row = head * tokens + q0 + r;
                const std::int64_t at = row * nb + J;
                const float rv = bf16 ? __bfloat162float(static_cast<const __nv_bfloat16 *>(tile_max)[at])
                                      : static_cast<const float *>(tile_max)[at];
                g = fmaxf(g, expf(rv - row_max[row]) / row_sum[row]);
            }
            if (bf16)
                g = __bfloat162float(__float2bfloat16_rn(g));
        }
        out[J] = g;
    }
}

template<int MODE>
cudaError_t launch_mode(
    const bs_attn::tile_params &p, const bs_attention_blockmax_args &a, bool with_o, cudaStream_t stream)
{
    switch (a.dtype) {
    case bs_attn_dtype::f32:
        return bs_attn::launch_tile_for_block<float, MODE>(p, a.batch, a.block_size, with_o, stream);
    case bs_attn_dtype::f16:
        return bs_attn::launch_tile_for_block<__half, MODE>(p, a.batch, a.block_size, with_o, stream);
    case bs_attn_dtype::bf16:
        return bs_attn::launch_tile_for_block<__nv_bfloat16, MODE>(p, a.batch, a.block_size, with_o, stream);
    }
    return cudaErrorInvalidValue;
}

} // namespace

cudaError_t bs_attention_blockmax(const bs_attention_blockmax_args &a, cudaStream_t stream)
{
    if (a.q == nullptr || a.k == nullptr || (a.o != nullptr && a.v == nullptr) || a.tile_max == nullptr
        || a.row_max == nullptr || a.row_sum == nullptr || a.block_max == nullptr || a.batch < 0 || a.q_heads <= 0
        || a.kv_heads <= 0 || a.q_heads % a.kv_heads != 0 || a.tokens < 0 || a.head_dim <= 0)
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
    p.tile_max = a.tile_max;
    p.tile_max_bf16 = a.bf16_intermediates;
    p.row_max = a.row_max;
    p.row_sum = a.row_sum;
    p.mass = a.mass;
    p.heads = a.q_heads;
    p.kv_heads = a.kv_heads;
    p.tokens = a.tokens;
    p.head_dim = a.head_dim;
    p.padded_dim = (a.head_dim + 3) / 4 * 4;
    p.nb = (int)nb;
    p.scale = a.scale;

    cudaError_t err = launch_mode<bs_attn::mode_blockmax>(p, a, a.o != nullptr, stream);
    if (err != cudaSuccess)
        return err;
    const dim3 grid((unsigned)nb, (unsigned)a.q_heads, (unsigned)a.batch);
    block_max_kernel<<<grid, 256, 0, stream>>>(a.tile_max, a.bf16_intermediates, a.row_max, a.row_sum, a.block_max,
        a.q_heads, a.tokens, (int)nb, a.block_size);
    err = cudaGetLastError();
    if (err != cudaSuccess || a.mass == nullptr)
        return err;
    const std::size_t mass_bytes = (std::size_t)(a.batch * a.q_heads * a.tokens * nb) * sizeof(float);
    err = cudaMemsetAsync(a.mass, 0, mass_bytes, stream);
    if (err != cudaSuccess)
        return err;
    return launch_mode<bs_attn::mode_mass>(p, a, false, stream);
}
