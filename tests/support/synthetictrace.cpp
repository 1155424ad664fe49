#include "synthetictrace.h"

namespace blockscope::test {

std::vector<TraceStep> greedySteps(const std::vector<Unit> &order, const std::vector<double> &perplexity, int layers)
{
    std::vector<TraceStep> steps;
    UnitMask mask = UnitMask::dense(layers);
    std::vector<Unit> sofar;
    for (std::size_t i = 0; i < order.size(); ++i) {
        TraceStep s;
        s.index = static_cast<int>(i);
        s.kind = "phase";
        s.chosen = {order[i]};
        order[i].applyTo(mask);
        sofar.push_back(order[i]);
        s.mask = mask;
        s.removedSoFar = sofar;
        s.perplexity = perplexity[i];
        s.klToDense = 0.1 * static_cast<double>(i + 1);
        steps.push_back(s);
    }
    return steps;
}

} // namespace blockscope::test
