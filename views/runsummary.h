#pragma once

#include <QString>

#include <vector>

namespace blockscope {
struct RunInfo;
struct TraceStep;
} // namespace blockscope

namespace blockscope::views {

// One line of the run list: what a run is and where it ended, taken from its info and steps.
struct RunSummary
{
    QString id; // "run-0001"; empty while a live run has not been saved yet
    QString label;
    QString method; // "sleb"
    QString status; // running, complete, cancelled, failed
    int steps = 0;
    int unitsRemoved = 0;
    QString removed; // "block 3, block 1" in removal order, or the final mask
    double finalPerplexity = 0; // NaN when the run has no evaluated step
    double finalKl = 0;
    double densePerplexity = 0;

    static RunSummary of(const RunInfo &info, const std::vector<TraceStep> &steps);
    // "run-0001 sleb", "run-0002 finercut (am, js)", "sleb (running)" before an id exists.
    QString seriesName() const;
};

} // namespace blockscope::views
