#include "tensor_stats.cuh"

#include <cfloat>
#include <cmath>

namespace {

constexpr int threads = 256;
constexpr int max_blocks = 1024;

__device__ void combine(bs_stats_partial &a, const bs_stats_partial &b)
{
    a.sum += b.sum;
    a.sum_sq += b.sum_sq;
    a.min = fminf(a.min, b.min);
    a.max = fmaxf(a.max, b.max);
    a.finite += b.finite;
    a.zeros += b.zeros;
    a.nans += b.nans;
    a.infs += b.infs;
}

__device__ bs_stats_partial empty_partial()
{
    bs_stats_partial p;
    p.sum = 0;
    p.sum_sq = 0;
    p.min = FLT_MAX;
    p.max = -FLT_MAX;
    p.finite = p.zeros = p.nans = p.infs = 0;
    return p;
}

__device__ void block_reduce(bs_stats_partial &mine, bs_stats_partial *shared)
{
    shared[threadIdx.x] = mine;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (threadIdx.x < stride)
            combine(shared[threadIdx.x], shared[threadIdx.x + stride]);
        __syncthreads();
    }
}

__global__ void stats_partial_kernel(const float *x, int64_t n, bs_stats_partial *partials)
{
    __shared__ bs_stats_partial shared[threads];
    bs_stats_partial mine = empty_partial();
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const float v = x[i];
        if (isnan(v)) {
            ++mine.nans;
        } else if (isinf(v)) {
            ++mine.infs;
        } else {
            mine.sum += v;
            mine.sum_sq += (double)v * v;
            mine.min = fminf(mine.min, v);
            mine.max = fmaxf(mine.max, v);
            ++mine.finite;
            mine.zeros += v == 0.0f;
        }
    }
    block_reduce(mine, shared);
    if (threadIdx.x == 0)
        partials[blockIdx.x] = shared[0];
}

__global__ void stats_final_kernel(const bs_stats_partial *partials, int count, bs_stats_partial *out)
{
    __shared__ bs_stats_partial shared[threads];
    bs_stats_partial mine = empty_partial();
    for (int i = threadIdx.x; i < count; i += blockDim.x)
        combine(mine, partials[i]);
    block_reduce(mine, shared);
    if (threadIdx.x == 0)
        *out = shared[0];
}

} // namespace

int bs_tensor_stats_partial_count(int64_t n)
{
    const int64_t blocks = (n + threads - 1) / threads;
    return (int)(blocks < 1 ? 1 : (blocks > max_blocks ? max_blocks : blocks));
}

cudaError_t bs_tensor_stats_f32(
    const float *x, int64_t n, bs_stats_partial *partials, bs_stats_partial *out, cudaStream_t stream)
{
    const int blocks = bs_tensor_stats_partial_count(n);
    stats_partial_kernel<<<blocks, threads, 0, stream>>>(x, n, partials);
    stats_final_kernel<<<1, threads, 0, stream>>>(partials, blocks, out);
    return cudaGetLastError();
}
