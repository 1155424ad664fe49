#pragma once

// Block-quantised GGUF tensors dequantised on a CUDA device by the kernel in kernels/, with the
// same formulas (kernels/gguf_blocks.cuh) and so the same float32 bits as the CPU path.

#include <ATen/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstddef>
#include <optional>
#include <span>

namespace blockscope {

struct TensorInfo;

// `raw` (the tensor's bytes: whole blocks of t.dtype) copied to `device` and dequantised there
// into a tensor of t.shape and `type` (float32, float16 or bfloat16, rounded to nearest even).
// nullopt when this build has no CUDA kernels, the device is not a CUDA device or none is
// present, or the format or type is not one the kernel writes: the caller dequantises on the CPU.
std::optional<at::Tensor> dequantiseOnGpu(
    std::span<const std::byte> raw, const TensorInfo &t, at::ScalarType type, c10::Device device);

} // namespace blockscope
