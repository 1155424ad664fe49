#pragma once

#include <QPointF>
#include <QRect>
#include <QRectF>

#include <optional>

namespace blockscope::views {

// Zoom and pan of a square heatmap inside a plot area, as plain maths (tested without a widget):
// `scale` pixels per cell and the widget position of cell (0, 0)'s top-left corner. Zooming
// never goes below "fit" (the whole map visible) nor above maxScale pixels per cell (or the fit
// scale when that is larger); panning keeps the map covering the area when it is larger than
// the area and centred when it is smaller.
struct HeatmapViewport
{
    static constexpr double maxScale = 64.0;

    int cells = 0;
    QRectF area; // the plot area in widget coordinates
    double scale = 1.0;
    QPointF origin;

    double fitScale() const;
    double minScale() const { return fitScale(); }
    double maxZoom() const;
    bool isFitted() const;
    // Zoom relative to fit (1 = fitted).
    double zoom() const { return fitScale() > 0 ? scale / fitScale() : 1.0; }

    void fit();
    // Multiplies the scale by `factor` (clamped), keeping the map point under `anchor` still.
    void zoomAt(const QPointF &anchor, double factor);
    void panBy(const QPointF &delta);
    // Keeps the zoom and the cell at the centre of the area when the area changes size.
    void setArea(const QRectF &newArea);
    // The same zoom relative to fit and the same cell at the centre (to link views of the same
    // map at different widget sizes).
    void setZoomAndCentre(double zoomOverFit, const QPointF &centreCell);
    QPointF centreCell() const;

    // Map coordinates (x = column, y = row, in cells) of a widget point, and back.
    QPointF toCell(const QPointF &widget) const;
    QPointF toWidget(const QPointF &cell) const;
    // The cell (x = column J, y = row I) under a widget point inside the area; none outside.
    std::optional<QPoint> cellAt(const QPointF &widget) const;
    QRectF cellRect(int row, int column) const;
    // The cells that intersect the area: x/y the first column/row, clipped to the map.
    QRect visibleCells() const;

private:
    void clampOrigin();
};

} // namespace blockscope::views
