#pragma once

#include "tensorstats.h"

#include <memory>
#include <optional>

namespace blockscope {

class ModelHandle;
struct TensorInfo;

// The same statistics as computeTensorStats, computed by the CUDA kernel in kernels/ on the
// current CUDA device and stream. nullopt when this build or machine has no CUDA.
std::optional<TensorStats> computeTensorStatsOnGpu(
    const std::shared_ptr<const ModelHandle> &model, const TensorInfo &tensor);

} // namespace blockscope
