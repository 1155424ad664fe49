#include "dequantise_gpu.h"

#include "common/device.h"
#include "ggmlquants.h"
#include "tensorinfo.h"

#include <ATen/ATen.h>

#ifdef BLOCKSCOPE_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <gguf_dequant.cuh>
#endif

namespace blockscope {

std::optional<at::Tensor> dequantiseOnGpu(
    std::span<const std::byte> raw, const TensorInfo &t, at::ScalarType type, c10::Device device)
{
#ifdef BLOCKSCOPE_HAVE_CUDA
    if (!device.is_cuda() || !cudaAvailable())
        return std::nullopt;
    const GgmlTypeInfo *info = ggmlTypeFor(t.dtype);
    if (!info || info->blockElements <= 1 || !bs_gguf_can_dequantise(static_cast<int>(info->id)))
        return std::nullopt;
    bs_dequant_out out;
    switch (type) {
    case at::kFloat: out = BS_DEQUANT_F32; break;
    case at::kHalf: out = BS_DEQUANT_F16; break;
    case at::kBFloat16: out = BS_DEQUANT_BF16; break;
    default: return std::nullopt;
    }
    const auto blocks = static_cast<std::int64_t>(t.elementCount() / info->blockElements);
    TORCH_CHECK(static_cast<std::uint64_t>(blocks) * info->blockBytes == raw.size(), "tensor ", t.name, " holds ",
        raw.size(), " bytes, not the ", blocks, " blocks of ", info->name, " its shape needs");
    const c10::cuda::CUDAGuard guard(device);
    // The blocks go to the device as they are (a quarter of the float32 bytes for 4-bit formats).
    const at::Tensor src = at::from_blob(const_cast<std::byte *>(raw.data()), {static_cast<std::int64_t>(raw.size())},
        at::TensorOptions().dtype(at::kByte))
                               .to(device);
    at::Tensor dst = at::empty(t.shape, at::TensorOptions().dtype(type).device(device));
    const auto stream = at::cuda::getCurrentCUDAStream(device.index());
    const cudaError_t err
        = bs_gguf_dequantise(static_cast<int>(info->id), src.data_ptr(), blocks, dst.data_ptr(), out, stream.stream());
    TORCH_CHECK(err == cudaSuccess, "dequantising ", t.name, " (", info->name, ") on ", device.str(),
        " failed: ", cudaGetErrorString(err));
    return dst;
#else
    (void)raw;
    (void)t;
    (void)type;
    (void)device;
    return std::nullopt;
#endif
}

} // namespace blockscope
