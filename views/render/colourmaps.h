#pragma once

#include <QColor>
#include <QString>

#include <vector>

namespace blockscope::render {

// Viridis at t in [0, 1] (clamped; NaN reads as 0): perceptually uniform, monotonic in lightness
// (readable in grey) and distinguishable by the common colour-vision deficiencies. Nine stops of
// matplotlib's table interpolated in sRGB, within 1/255 of the full table (the layer map's
// palette too).
QRgb viridis(double t);

// Cells with no value: NaN, and the masked triangle above the diagonal.
QRgb backgroundColour();
// Forced mask cells (lastBlockDense rows, a forced diagonal or sink) are tinted towards this
// orange; it stays apart from every viridis colour in lightness or hue.
QRgb forcedColour();

// Value to colour-bar position. Log10 maps log10(v) over [low, high] (so [-5, 0] is 1e-5 .. 1,
// the attention heatmaps' range in seerattention.md §7); v <= 0 clamps to the low end and NaN
// stays NaN. Linear maps v over [low, high].
struct ValueScale
{
    enum class Kind { Linear, Log10 };
    Kind kind = Kind::Log10;
    double low = -5;
    double high = 0;

    static ValueScale probabilities() { return {Kind::Log10, -5, 0}; }
    static ValueScale linear(double low, double high) { return {Kind::Linear, low, high}; }

    // 0 .. 1, clamped; NaN for NaN.
    double position(double value) const;
    QRgb colour(double value) const;
    // Positions of the colour bar's labelled ticks (whole powers of ten for Log10, about five
    // round numbers for Linear) with their text ("1e-5" .. "1"; "0.25").
    struct Tick
    {
        double position = 0;
        QString text;
    };
    std::vector<Tick> ticks() const;
    // The value as a tooltip shows it: "3.2e-3 (log10 -2.49)" or "0.25".
    QString describe(double value) const;
};

// The colour of a cell under a mask overlay: `kept` is the fraction (0..1) of heads that keep the
// cell (1 or 0 for one head). Kept cells keep their colour; dropped ones turn grey in the order of
// their lightness, so what a mask drops still shows how much attention it held; partly kept cells
// (a mean over heads) lie between; forced cells are tinted orange.
QRgb maskedColour(QRgb colour, double kept, bool forced);

} // namespace blockscope::render
