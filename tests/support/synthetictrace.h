#pragma once

#include "prune/trace.h"

#include <vector>

namespace blockscope::test {

// Greedy trace steps on a `layers`-block model removing `order` one unit per step: step i has
// perplexity perplexity[i] and KL 0.1·(i+1), with masks and removal lists that add up.
std::vector<TraceStep> greedySteps(
    const std::vector<Unit> &order, const std::vector<double> &perplexity, int layers = 4);

} // namespace blockscope::test
