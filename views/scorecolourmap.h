#pragma once

#include <QColor>

#include <vector>

namespace blockscope::views {

// Candidate score to colour for the layer map and its colour bar: a linear map of [low, high]
// onto the viridis palette (perceptually uniform, readable in grey and by most colour-blind
// readers). Values outside the range clamp; NaN (no score) gets a neutral grey.
struct ScoreColourMap
{
    double low = 0;
    double high = 1;

    // The range of the finite values, [0, 1] when there are none; a single value gets a range
    // around itself so that it still maps to the middle of the palette.
    static ScoreColourMap fitting(const std::vector<double> &values);

    // 0 at `low`, 1 at `high`, clamped; NaN for NaN.
    double position(double value) const;
    QColor colour(double value) const;
    // The palette at a position in [0, 1] (the colour bar draws these).
    static QColor atPosition(double t);
    static QColor missingColour();
    // Black or white, whichever reads better on `background`.
    static QColor textColourOn(const QColor &background);
};

} // namespace blockscope::views
