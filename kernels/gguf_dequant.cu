#include "gguf_blocks.cuh"
#include "gguf_dequant.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace {

__device__ __forceinline__ void store(float *dst, std::int64_t k, float v)
{
    dst[k] = v;
}

__device__ __forceinline__ void store(__half *dst, std::int64_t k, float v)
{
    dst[k] = __float2half_rn(v);
}

__device__ __forceinline__ void store(__nv_bfloat16 *dst, std::int64_t k, float v)
{
    dst[k] = __float2bfloat16_rn(v);
}

// Thread k writes value k of the tensor: value k % elements of block k / elements. Consecutive
// threads write consecutive values (coalesced) and read neighbouring bytes of the same block.
template<typename F, typename Out>
__global__ void dequantise_kernel(const std::uint8_t *src, std::int64_t values, Out *dst)
{
    const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
    for (std::int64_t k = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < values; k += stride) {
        const std::int64_t block = k / F::elements;
        const int f = static_cast<int>(k - block * F::elements);
        store(dst, k, bs_gguf::value_at<F>(src + block * F::bytes, f));
    }
}

template<typename F, typename Out>
cudaError_t launch(const void *src, std::int64_t blocks, void *dst, cudaStream_t stream)
{
    const std::int64_t values = blocks * F::elements;
    if (values == 0)
        return cudaSuccess;
    constexpr int threads = 256;
    // Enough blocks to fill any current GPU; the grid-stride loop covers the rest.
    const std::int64_t wanted = (values + threads - 1) / threads;
    const unsigned grid = static_cast<unsigned>(wanted < 65535 * 8 ? wanted : 65535 * 8);
    dequantise_kernel<F, Out>
        <<<grid, threads, 0, stream>>>(static_cast<const std::uint8_t *>(src), values, static_cast<Out *>(dst));
    return cudaGetLastError();
}

} // namespace

bool bs_gguf_can_dequantise(int ggml_type)
{
    return bs_gguf::with_format(ggml_type, [](auto) {});
}

cudaError_t bs_gguf_dequantise(
    int ggml_type, const void *src, std::int64_t blocks, void *dst, bs_dequant_out out, cudaStream_t stream)
{
    if (blocks < 0)
        return cudaErrorInvalidValue;
    cudaError_t err = cudaErrorInvalidValue;
    bs_gguf::with_format(ggml_type, [&](auto format) {
        using F = decltype(format);
        switch (out) {
        case BS_DEQUANT_F32: err = launch<F, float>(src, blocks, dst, stream); break;
        case BS_DEQUANT_F16: err = launch<F, __half>(src, blocks, dst, stream); break;
        case BS_DEQUANT_BF16: err = launch<F, __nv_bfloat16>(src, blocks, dst, stream); break;
        }
    });
    return err;
}
