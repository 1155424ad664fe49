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

} // namespace

cudaError_t bs_attention_blockmax(const bs_attention_blockmax_args &a, cudaStream_t stream)
{
    if ((a.o != nullptr && a.v == nullptr) || a.tile_max == nullptr || a.row_max == nullptr || a.row_sum == nullptr
        || a.block_max == nullptr)
        return cudaErrorInvalidValue;
    bs_attn::tile_params p{};
    bool empty = false;
    cudaError_t err = bs_attn::shape_params(a, p, empty);
    if (err != cudaSuccess || empty)
        return err;
    p.tile_max = a.tile_max;
    p.tile_max_bf16 = a.bf16_intermediates;
    p.row_max = a.row_max;
    p.row_sum = a.row_sum;
    p.mass = a.mass;

    err = bs_attn::launch_tile_for<bs_attn::mode_blockmax>(a.dtype, p, a.batch, a.block_size, a.o != nullptr, stream);
    if (err != cudaSuccess)
        return err;
    const dim3 grid((unsigned)p.nb, (unsigned)a.q_heads, (unsigned)a.batch);
    block_max_kernel<<<grid, 256, 0, stream>>>(
        a.tile_max, a.bf16_intermediates, a.row_max, a.row_sum, a.block_max, a.q_heads, a.tokens, p.nb, a.block_size);
    err = cudaGetLastError();
    if (err != cudaSuccess || a.mass == nullptr)
        return err;
    const std::size_t mass_bytes = (std::size_t)(a.batch * a.q_heads * a.tokens * p.nb) * sizeof(float);
    err = cudaMemsetAsync(a.mass, 0, mass_bytes, stream);
    if (err != cudaSuccess)
        return err;
    return bs_attn::launch_tile_for<bs_attn::mode_mass>(a.dtype, p, a.batch, a.block_size, false, stream);
}
