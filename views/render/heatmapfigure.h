#pragma once

#include "render/colourmaps.h"
#include "render/heatmapimage.h"
#include "sparse/blockmask.h"

#include <QColor>
#include <QFont>
#include <QImage>
#include <QRect>
#include <QString>

#include <vector>

class QPainter;

namespace blockscope::render {

// A heatmap as a figure: title, the square matrix with its row and column axes (indices, or
// token strings for a token-level map), the colour bar with its scale, and the key of a mask
// overlay. What `blockscope-cli attention --png` writes and what the attention page exports.
struct HeatmapFigure
{
    QString title;
    QString subtitle; // model, layer, head, tokens: one line under the title
    sparse::BlockGrid grid;
    bool causal = true; // cells above the diagonal are drawn as background
    ValueScale scale = ValueScale::probabilities();
    QString valueLabel = QStringLiteral("probability (log scale)");
    QString rowTitle = QStringLiteral("query block I");
    QString columnTitle = QStringLiteral("key block J");
    std::vector<QString> labels; // one per row/column (token strings); empty: indices
    MaskOverlay mask; // empty: none
};

struct FigureStyle
{
    QFont font; // default: the application font
    QColor text = QColor(0x20, 0x20, 0x20);
    QColor background = Qt::white;
    QColor frame = QColor(0x80, 0x80, 0x80);
};

// Where paintHeatmapFigure() draws what inside a target rectangle. The plot is square and as
// large as fits; when it is at least as many pixels as there are cells it is a whole multiple of
// them, so every cell is the same size.
struct HeatmapFigureLayout
{
    static constexpr int margin = 10;
    static constexpr int barWidth = 14;
    static constexpr int maxLabelWidth = 140; // token labels are elided beyond this

    QRect title;
    QRect subtitle;
    QRect plot;
    QRect rowLabels; // left of the plot
    QRect columnLabels; // under the plot
    QRect rowTitle;
    QRect columnTitle;
    QRect colourBar;
    QRect colourBarLabels; // the bar's tick labels and its rotated title
    QRect maskKey; // empty without a mask

    static HeatmapFigureLayout compute(const HeatmapFigure &figure, const QRect &target, const QFont &font);
};

// Which indices in [first, last] to label when each cell is `pixelsPerCell` wide and labels need
// `minSpacing` pixels: every 1, 2, 5, 10, 20, 50 ... cells, at multiples of that step.
std::vector<int> tickIndices(int first, int last, double pixelsPerCell, double minSpacing);

// The parts on their own, for views that draw a zoomable heatmap themselves. The bar runs from
// the scale's low end (bottom) to its high end (top); labels go right of it in `labels`, with the
// value label rotated at its right edge.
void paintColourBar(QPainter &painter, const QRect &bar, const QRect &labels, const ValueScale &scale,
    const QString &valueLabel, const FigureStyle &style = {});
// "kept", "dropped" and "forced" swatches (and "kept by some heads" for a mean over heads).
void paintMaskKey(QPainter &painter, const QRect &area, bool partial, const FigureStyle &style = {});
int maskKeyWidth(const QFont &font, bool partial);

void paintHeatmapFigure(
    QPainter &painter, const HeatmapFigure &figure, const QRect &target, const FigureStyle &style = {});

// The size a figure is drawn at when none is given: cells of 4 to 16 pixels, the plot 384 to
// 1024 pixels wide, plus the axes, title and colour bar.
QSize defaultFigureSize(const HeatmapFigure &figure, const QFont &font = {});
// The figure as an image; an empty size means defaultFigureSize(). Needs a QGuiApplication.
QImage renderHeatmapFigure(const HeatmapFigure &figure, QSize size = {}, qreal devicePixelRatio = 1.0);
// PNG (at twice the size's resolution), SVG or PDF (vector text and frame, the cells as an
// embedded image), chosen by the file's suffix; anything else is an error. Needs a
// QGuiApplication (fonts).
bool saveHeatmap(const HeatmapFigure &figure, const QString &path, QString *error = nullptr, QSize size = {});

} // namespace blockscope::render
