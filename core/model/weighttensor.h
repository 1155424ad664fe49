#pragma once

// LibTorch views of checkpoint tensors. Only core sources and tests that need tensors include
// this header; everything else stays free of LibTorch.

#include <ATen/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <optional>

namespace blockscope {

class ModelHandle;
struct TensorInfo;

// The tensor's values as a CPU at::Tensor of its storage dtype. Plain dtypes whose data is
// suitably aligned are zero-copy views of the memory map (the handle must outlive the tensor:
// the view keeps a reference to it). Block formats (Q8_0, Q4_K, ...) are dequantised, in
// parallel chunks of blocks, straight into `dequantisedType` (float32 when not given), so that
// loading never holds a float32 copy of a tensor meant for bfloat16. With a CUDA `device` (and the
// kernels built in) block formats are instead copied there as they are and dequantised by the GPU
// kernel, to the same values; plain dtypes always come back on the CPU. Throws
// std::invalid_argument for types the engine cannot compute with.
at::Tensor weightTensor(const std::shared_ptr<const ModelHandle> &model, const TensorInfo &tensor,
    std::optional<at::ScalarType> dequantisedType = std::nullopt, c10::Device device = c10::kCPU);

} // namespace blockscope
