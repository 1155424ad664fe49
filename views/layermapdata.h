#pragma once

#include "model/unitmask.h"

#include <QString>

#include <vector>

namespace blockscope {
struct PruneOptions;
struct TraceStep;
} // namespace blockscope

namespace blockscope::views {

// What one layer map shows, taken from one trace step: each cell's latest candidate score, the
// configuration after the step, and where each removed unit came in the removal order.
struct LayerMapData
{
    int layers = 0;
    std::vector<double> attnScore, mlpScore; // NaN: no candidate score for the cell
    // The score is a lower bound: the candidate stopped early once it could not win (SLEB).
    std::vector<bool> attnBound, mlpBound;
    UnitMask removed;
    std::vector<int> attnOrder, mlpOrder; // 1-based position in the removal order, 0: not removed
    QString title; // "run-0001 sleb · step 3"
    QString scoreLabel; // what the colours mean

    static LayerMapData dense(int layers);
    // `layers` decides the map's size when the step's mask is empty (no step yet).
    static LayerMapData fromStep(const TraceStep &step, int layers);
    bool hasScores() const;
    // What a method's candidate score is, for the colour bar ("calibration PPL without the block").
    static QString scoreLabelFor(const PruneOptions &options);
};

} // namespace blockscope::views
