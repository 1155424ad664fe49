#pragma once

// LibTorch views of checkpoint tensors. Only core sources and tests that need tensors include
// this header; everything else stays free of LibTorch.

#include <ATen/Tensor.h>

namespace blockscope {

class ModelHandle;
struct TensorInfo;

// The tensor's values as a CPU at::Tensor of its storage dtype. Plain dtypes whose data is
// suitably aligned are zero-copy views of the memory map (the handle must outlive the tensor:
// the view keeps a reference to it); Q8_0 is dequantised to float32. Throws std::invalid_argument
// for types the engine cannot compute with.
at::Tensor weightTensor(const std::shared_ptr<const ModelHandle> &model, const TensorInfo &tensor);

} // namespace blockscope
