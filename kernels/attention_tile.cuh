#pragma once

// Device code shared by block_sparse_attention.cu and attention_blockmax.cu (not a launcher
// header): one thread block per (query tile I, query head, batch) walks key tiles of the same size
// B, computes the B x B score tile from shared memory, and then, depending on the mode, runs the
// online softmax (with P·V), records the per-row maximum of each tile (r[i,J] of
// seerattention.md §2), or sums exp(s − lse) per tile (the block mass map).
//
// Layout: q/o [b, hq, n, d], k/v [b, hkv, n, d], contiguous; query head h reads KV head
// h / (hq / hkv). Scores are fp32 throughout; tiles live in shared memory as fp32 with the head
// dimension padded to a multiple of 4 (zeros), so any d up to the shared-memory budget works.
//
// Thread layout: 256 threads. For the score tile and P·V, (ty, tx) = (tid / 16, tid % 16) owns rows
// ty + 16a; for row-wise passes, P = 256 / B consecutive lanes share a row and reduce with shuffles.

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>

namespace bs_attn {

constexpr int threads = 256;

enum tile_mode : int {
    mode_sparse = 0, // block-sparse forward: O and LSE
    mode_blockmax = 1, // dense causal forward emitting r[i,J], m_i, l_i (and O when o != null)
    mode_mass = 2, // Σ_{j∈J, j<=i} exp(s_ij − lse_i) per key tile, given m_i and l_i
};

struct tile_params
{
    const void *q;
    const void *k;
    const void *v; // unused (may be null) in mode_mass and in mode_blockmax without o
    void *o; // [b, hq, n, d] or null (mode_blockmax only)
    float *lse; // [b, hq, n] or null (mode_sparse)
    const std::uint8_t *mask; // [b, hq, nb, nb] (mode_sparse, when indices is null)
    const std::int32_t *indices; // [b, hq, nb, max_sel], descending J, -1 padded (mode_sparse)
    int max_sel;
    void *tile_max; // r [b, hq, n, nb], float or bf16 (mode_blockmax)
    bool tile_max_bf16;
    float *row_max; // m [b, hq, n]: written in mode_blockmax, read in mode_mass
    float *row_sum; // l [b, hq, n]: likewise
    float *mass; // [b, hq, n, nb] (mode_mass)
    std::int64_t heads;
    std::int64_t kv_heads;
    std::int64_t tokens;
    int head_dim;
    int padded_dim; // head_dim rounded up to a multiple of 4
    int nb;
    float scale;
};

template<typename T>
__device__ __forceinline__ float load_float(const T *p, std::int64_t i);
template<>
__device__ __forceinline__ float load_float<float>(const float *p, std::int64_t i)
{
    return p[i];
}
template<>
__device__ __forceinline__ float load_float<__half>(const __half *p, std::int64_t i)
{
    return __half2float(p[i]);
}
template<>
__device__ __forceinline__ float load_float<__nv_bfloat16>(const __nv_bfloat16 *p, std::int64_t i)
{
    return __bfloat162float(p[i]);
}

template<typename T>
__device__ __forceinline__ void store_float(T *p, std::int64_t i, float x);
template<>
__device__ __forceinline__ void store_float<float>(float *p, std::int64_t i, float x)
{
    p[i] = x;
}
template<>
__device__ __forceinline__ void store_float<__half>(__half *p, std::int64_t i, float x)
{
    p[i] = __float2half_rn(x);
}
template<>
__device__ __forceinline__ void store_float<__nv_bfloat16>(__nv_bfloat16 *p, std::int64_t i, float x)
{
    p[i] = __float2bfloat16_rn(x);
}

// Reductions over the P lanes that share a row (P is a power of two <= 16, groups are aligned).
template<int P>
__device__ __forceinline__ float group_max(float x)
{
#pragma unroll
    for (int off = P / 2; off > 0; off >>= 1)
        x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, off));
    return x;
}
template<int P>
__device__ __forceinline__ float group_sum(float x)
{
#pragma unroll
    for (int off = P / 2; off > 0; off >>= 1)
        x += __shfl_xor_sync(0xffffffffu, x, off);
    return x;
}

// Shared-memory floats the kernel needs (see the carve-up at the top of tile_kernel).
__host__ __device__ inline std::int64_t tile_smem_floats(int B, int padded_dim, bool with_o)
{
    const std::int64_t base
        = (std::int64_t)B * padded_dim + (std::int64_t)B * (padded_dim + 4) + (std::int64_t)B * (B + 4) + 3ll * B;
    return base + (with_o ? 2ll * B * padded_dim : 0);
}

template<typename T, int B, int MODE>
__global__ void __launch_bounds__(threads) tile_kernel(const tile_params p)
{
    static_assert(B == 16 || B == 32 || B == 64, "tile size");
    constexpr int R = B / 16; // score rows and columns per thread
    constexpr int P = threads / B; // lanes per row in the row passes
    const float neg_inf = -INFINITY;

    extern __shared__ __align__(16) float smem[];
    const int Dp = p.padded_dim;
    const int D = p.head_dim;
    const int ks_stride = Dp + 4; // odd multiple of 4 words for the usual d: conflict-free float4 reads
    const int ss_stride = B + 4;
    float *qs = smem; // [B][Dp]
    float *ks = qs + B * Dp; // [B][Dp + 4]
    float *ss = ks + B * ks_stride; // [B][B + 4]: scores, then probabilities
    float *row_alpha = ss + B * ss_stride; // [B]
    float *row_m = row_alpha + B; // [B]
    float *row_l = row_m + B; // [B]
    float *vs = row_l + B; // [B][Dp] (with_o only)
    float *os = vs + B * Dp; // [B][Dp] (with_o only)

    const bool with_o = MODE == mode_sparse || (MODE == mode_blockmax && p.o != nullptr);

    // Heaviest causal tiles first: blockIdx.x = 0 takes the last query tile.
    const int I = (int)gridDim.x - 1 - (int)blockIdx.x;
    const std::int64_t h = blockIdx.y;
    const std::int64_t bi = blockIdx.z;
    const int tid = threadIdx.x;
    const int tx = tid & 15;
    const int ty = tid >> 4;
    const int prow = tid / P; // row in the row passes
    const int part = tid % P;

    const std::int64_t N = p.tokens;
    const std::int64_t group = p.heads / p.kv_heads;
    const std::int64_t q_rows = (bi * p.heads + h) * N; // row offset of this head in [b, hq, n]
    const std::int64_t kv_rows = (bi * p.kv_heads + h / group) * N;
    const std::int64_t q0 = (std::int64_t)I * B;
    const int rows = (int)(N - q0 < B ? N - q0 : B);

    const T *qg = static_cast<const T *>(p.q);
    const T *kg = static_cast<const T *>(p.k);
    const T *vg = static_cast<const T *>(p.v);

    for (int idx = tid; idx < B * Dp; idx += threads) {
        const int r = idx / Dp;
        const int c = idx - r * Dp;
        qs[idx] = (r < rows && c < D) ? load_float(qg, (q_rows + q0 + r) * D + c) : 0.0f;
        if (with_o)
            os[idx] = 0.0f;
    }
    if (tid < B) {
        row_alpha[tid] = 1.0f;
        if (MODE == mode_mass) {
            // lse of the row; padded rows get 0 and are never written back.
            const std::int64_t row = q_rows + q0 + tid;
            row_m[tid] = tid < rows ? p.row_max[row] + logf(p.row_sum[row]) : 0.0f;
        } else {
            row_m[tid] = neg_inf;
        }
        row_l[tid] = 0.0f;
    }
    // Online-softmax state of row `prow`, identical in the P lanes that share it.
    float m_run = neg_inf;
    float l_run = 0.0f;
    __syncthreads();

    auto process_tile = [&](int J) {
        const std::int64_t k0 = (std::int64_t)J * B;
        const int cols = (int)(N - k0 < B ? N - k0 : B);
        for (int idx = tid; idx < B * Dp; idx += threads) {
            const int r = idx / Dp;
            const int c = idx - r * Dp;
            const bool in = r < cols && c < D;
            const std::int64_t g = (kv_rows + k0 + r) * D + c;
            ks[r * ks_stride + c] = in ? load_float(kg, g) : 0.0f;
            if (with_o)
                vs[idx] = in ? load_float(vg, g) : 0.0f;
        }
        __syncthreads();

        // Score tile: rows ty + 16a, columns tx + 16c.
        float acc[R][R];
#pragma unroll
        for (int a = 0; a < R; ++a)
#pragma unroll
            for (int c = 0; c < R; ++c)
                acc[a][c] = 0.0f;
        for (int kk = 0; kk < Dp; kk += 4) {
            float4 qa[R];
            float4 kb[R];
#pragma unroll
            for (int a = 0; a < R; ++a)
                qa[a] = *reinterpret_cast<const float4 *>(qs + (ty + 16 * a) * Dp + kk);
#pragma unroll
            for (int c = 0; c < R; ++c)
                kb[c] = *reinterpret_cast<const float4 *>(ks + (tx + 16 * c) * ks_stride + kk);
#pragma unroll
            for (int a = 0; a < R; ++a)
#pragma unroll
                for (int c = 0; c < R; ++c)
                    acc[a][c] += qa[a].x * kb[c].x + qa[a].y * kb[c].y + qa[a].z * kb[c].z + qa[a].w * kb[c].w;
        }
#pragma unroll
        for (int a = 0; a < R; ++a) {
#pragma unroll
            for (int c = 0; c < R; ++c) {
                const int r = ty + 16 * a;
                const int col = tx + 16 * c;
                const bool valid = r < rows && col < cols && k0 + col <= q0 + r;
                ss[r * ss_stride + col] = valid ? acc[a][c] * p.scale : neg_inf;
            }
        }
        __syncthreads();

        // Row pass.
        float *srow = ss + prow * ss_stride;
        float tmax = neg_inf;
        for (int c = part; c < B; c += P)
            tmax = fmaxf(tmax, srow[c]);
        tmax = group_max<P>(tmax);
        const std::int64_t out_row = q_rows + q0 + prow;
        if (MODE == mode_mass) {
            const float lse = row_m[prow];
            float sum = 0.0f;
            for (int c = part; c < B; c += P)
                sum += expf(srow[c] - lse);
            sum = group_sum<P>(sum);
            if (part == 0 && prow < rows)
                p.mass[out_row * p.nb + J] = sum;
        } else {
            if (MODE == mode_blockmax && part == 0 && prow < rows) {
                if (p.tile_max_bf16)
                    static_cast<__nv_bfloat16 *>(p.tile_max)[out_row * p.nb + J] = __float2bfloat16_rn(tmax);
                else
                    static_cast<float *>(p.tile_max)[out_row * p.nb + J] = tmax;
            }
            const float m_new = fmaxf(m_run, tmax);
            float sum = 0.0f;
            float alpha = 1.0f;
            if (m_new == neg_inf) {
                // Nothing allowed in this row so far: keep O = 0, l = 0.
                for (int c = part; c < B; c += P)
                    srow[c] = 0.0f;
            } else {
                alpha = expf(m_run - m_new); // 0 when m_run = -inf
                for (int c = part; c < B; c += P) {
                    const float e = expf(srow[c] - m_new);
                    srow[c] = e;
                    sum += e;
                }
            }
            sum = group_sum<P>(sum);
            l_run = l_run * alpha + sum;
            m_run = m_new;
            if (part == 0)
                row_alpha[prow] = alpha;
        }
        __syncthreads();

        if (with_o) {
            // O[r, cols d0 + 4tx .. +3] = alpha_r · O + Σ_c P[r, c] · V[c, ...].
            for (int d0 = 0; d0 < Dp; d0 += 64) {
                const int dc = d0 + 4 * tx;
                if (dc < Dp) {
                    float4 o_acc[R];
#pragma unroll
                    for (int a = 0; a < R; ++a)
                        o_acc[a] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
                    for (int c = 0; c < B; c += 4) {
                        float4 pr[R];
#pragma unroll
                        for (int a = 0; a < R; ++a)
                            pr[a] = *reinterpret_cast<const float4 *>(ss + (ty + 16 * a) * ss_stride + c);
                        const float4 v0 = *reinterpret_cast<const float4 *>(vs + (c + 0) * Dp + dc);
                        const float4 v1 = *reinterpret_cast<const float4 *>(vs + (c + 1) * Dp + dc);
                        const float4 v2 = *reinterpret_cast<const float4 *>(vs + (c + 2) * Dp + dc);
                        const float4 v3 = *reinterpret_cast<const float4 *>(vs + (c + 3) * Dp + dc);
#pragma unroll
                        for (int a = 0; a < R; ++a) {
                            o_acc[a].x += pr[a].x * v0.x + pr[a].y * v1.x + pr[a].z * v2.x + pr[a].w * v3.x;
                            o_acc[a].y += pr[a].x * v0.y + pr[a].y * v1.y + pr[a].z * v2.y + pr[a].w * v3.y;
                            o_acc[a].z += pr[a].x * v0.z + pr[a].y * v1.z + pr[a].z * v2.z + pr[a].w * v3.z;
                            o_acc[a].w += pr[a].x * v0.w + pr[a].y * v1.w + pr[a].z * v2.w + pr[a].w * v3.w;
                        }
                    }
#pragma unroll
                    for (int a = 0; a < R; ++a) {
                        const int r = ty + 16 * a;
                        const float al = row_alpha[r];
                        float4 *dst = reinterpret_cast<float4 *>(os + r * Dp + dc);
                        float4 cur = *dst;
                        cur.x = cur.x * al + o_acc[a].x;
                        cur.y = cur.y * al + o_acc[a].y;
                        cur.z = cur.z * al + o_acc[a].z;
                        cur.w = cur.w * al + o_acc[a].w;
                        *dst = cur;
                    }
                }
            }
        }
        __syncthreads(); // ks, vs and ss are overwritten by the next tile
    };

    const std::int64_t cell_row = (bi * p.heads + h) * p.nb + I; // row I of this head's block grid
    if (MODE == mode_sparse && p.indices != nullptr) {
        // Descending J; entries above the diagonal are ignored, -1 ends the list, and an entry
        // that is not below the previous one is skipped so no tile is visited twice.
        const std::int32_t *list = p.indices + cell_row * p.max_sel;
        int last = I + 1;
        for (int t = 0; t < p.max_sel; ++t) {
            const int J = list[t];
            if (J < 0)
                break;
            if (J >= last)
                continue;
            last = J;
            process_tile(J);
        }
    } else {
        const std::uint8_t *mask_row = MODE == mode_sparse ? p.mask + cell_row * p.nb : nullptr;
        for (int J = I; J >= 0; --J) {
            if (MODE == mode_sparse && mask_row[J] == 0)
                continue;
            process_tile(J);
        }
    }

    if (MODE == mode_mass)
        return;
    if (part == 0) {
        row_m[prow] = m_run;
        row_l[prow] = l_run;
    }
    __syncthreads();
    if (part == 0 && prow < rows) {
        const std::int64_t out_row = q_rows + q0 + prow;
        if (MODE == mode_sparse && p.lse != nullptr)
            p.lse[out_row] = l_run > 0.0f ? m_run + logf(l_run) : neg_inf;
        if (MODE == mode_blockmax) {
            p.row_max[out_row] = m_run;
            p.row_sum[out_row] = l_run;
        }
    }
    if (with_o) {
        T *og = static_cast<T *>(p.o);
        for (int idx = tid; idx < rows * D; idx += threads) {
            const int r = idx / D;
            const int c = idx - r * D;
            const float l = row_l[r];
            store_float(og, (q_rows + q0 + r) * D + c, l > 0.0f ? os[r * Dp + c] / l : 0.0f);
        }
    }
}

// Launches tile_kernel<T, B, MODE> on grid (nb, heads, batch) with the shared memory it needs.
template<typename T, int B, int MODE>
cudaError_t launch_tile(const tile_params &p, std::int64_t batch, bool with_o, cudaStream_t stream)
{
    const std::size_t bytes = (std::size_t)tile_smem_floats(B, p.padded_dim, with_o) * sizeof(float);
    int device = 0;
    cudaError_t err = cudaGetDevice(&device);
    if (err != cudaSuccess)
        return err;
    int optin = 0;
    err = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    if (err != cudaSuccess)
        return err;
    if (bytes > (std::size_t)optin)
        return cudaErrorInvalidValue; // head dimension too large for this tile size
    auto kernel = tile_kernel<T, B, MODE>;
    err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
    if (err != cudaSuccess)
        return err;
    const dim3 grid((unsigned)p.nb, (unsigned)p.heads, (unsigned)batch);
    kernel<<<grid, threads, bytes, stream>>>(p);
    return cudaGetLastError();
}

template<typename T, int MODE>
cudaError_t launch_tile_for_block(const tile_params &p, std::int64_t batch, int B, bool with_o, cudaStream_t stream)
{
    switch (B) {
    case 16: return launch_tile<T, 16, MODE>(p, batch, with_o, stream);
    case 32: return launch_tile<T, 32, MODE>(p, batch, with_o, stream);
    case 64: return launch_tile<T, 64, MODE>(p, batch, with_o, stream);
    default: return cudaErrorInvalidValue;
    }
}

} // namespace bs_attn
