#include "tensorstats_gpu.h"

#include "common/device.h"
#include "modelhandle.h"
#include "weighttensor.h"

#include <ATen/ATen.h>
#include <cmath>

#ifdef BLOCKSCOPE_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <tensor_stats.cuh>
#endif

namespace blockscope {

std::optional<TensorStats> computeTensorStatsOnGpu(
    const std::shared_ptr<const ModelHandle> &model, const TensorInfo &tensor)
{
#ifdef BLOCKSCOPE_HAVE_CUDA
    if (!cudaAvailable())
        return std::nullopt;
    at::Tensor x = weightTensor(model, tensor, at::kFloat, at::kCUDA).to(at::kCUDA, at::kFloat).contiguous();
    TORCH_CHECK(x.is_cuda() && x.scalar_type() == at::kFloat && x.is_contiguous(),
        "stats input must be contiguous CUDA float32");
    const int64_t n = x.numel();
    const int parts = bs_tensor_stats_partial_count(n);
    auto bytesOpts = at::TensorOptions().dtype(at::kByte).device(x.device());
    at::Tensor scratch = at::empty({static_cast<int64_t>((parts + 1) * sizeof(bs_stats_partial))}, bytesOpts);
    auto *partials = reinterpret_cast<bs_stats_partial *>(scratch.data_ptr());
    const auto stream = at::cuda::getCurrentCUDAStream();
    const cudaError_t err = bs_tensor_stats_f32(x.data_ptr<float>(), n, partials, partials + parts, stream.stream());
    TORCH_CHECK(err == cudaSuccess, "tensor stats kernel failed: ", cudaGetErrorString(err));
    at::Tensor host
        = scratch.narrow(0, static_cast<int64_t>(parts * sizeof(bs_stats_partial)), sizeof(bs_stats_partial)).cpu();
    bs_stats_partial p;
    std::memcpy(&p, host.data_ptr(), sizeof p);
    TensorStats s;
    s.count = static_cast<std::uint64_t>(n);
    s.nanCount = p.nans;
    s.infCount = p.infs;
    if (p.finite > 0) {
        s.min = p.min;
        s.max = p.max;
        s.mean = p.sum / static_cast<double>(p.finite);
        s.std = std::sqrt(std::max(0.0, p.sum_sq / static_cast<double>(p.finite) - s.mean * s.mean));
    }
    s.l2 = std::sqrt(p.sum_sq);
    s.zeroFraction = n ? static_cast<double>(p.zeros) / static_cast<double>(n) : 0;
    return s;
#else
    (void)model;
    (void)tensor;
    return std::nullopt;
#endif
}

} // namespace blockscope
