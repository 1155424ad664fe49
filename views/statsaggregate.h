#pragma once

#include "model/tensorstats.h"

#include <optional>
#include <vector>

namespace blockscope::views {

// Statistics of a group of tensors (a sublayer, a block) as if their values were one tensor:
// pooled mean and standard deviation of the finite values, min/max over all, L2 of the
// concatenation. None when the list is empty or any member has not been computed yet, so a group
// never shows numbers that will change once its last tensor arrives.
std::optional<TensorStats> combineStats(const std::vector<const TensorStats *> &parts);

} // namespace blockscope::views
