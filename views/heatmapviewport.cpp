#include "heatmapviewport.h"

#include <algorithm>
#include <cmath>

namespace blockscope::views {

double HeatmapViewport::fitScale() const
{
    if (cells <= 0 || area.width() <= 0 || area.height() <= 0)
        return 1.0;
    return std::min(area.width(), area.height()) / cells;
}

double HeatmapViewport::maxZoom() const
{
    return std::max(maxScale, fitScale());
}

bool HeatmapViewport::isFitted() const
{
    return std::abs(scale - fitScale()) <= 1e-9 * std::max(1.0, scale);
}

void HeatmapViewport::fit()
{
    scale = fitScale();
    clampOrigin();
}

void HeatmapViewport::zoomAt(const QPointF &anchor, double factor)
{
    if (!(factor > 0))
        return;
    const QPointF cell = toCell(anchor);
    scale = std::clamp(scale * factor, minScale(), maxZoom());
    origin = anchor - cell * scale;
    clampOrigin();
}

void HeatmapViewport::panBy(const QPointF &delta)
{
    origin += delta;
    clampOrigin();
}

void HeatmapViewport::setArea(const QRectF &newArea)
{
    const bool fitted = isFitted();
    const double z = zoom();
    const QPointF centre = centreCell();
    area = newArea;
    if (fitted || cells <= 0)
        fit();
    else
        setZoomAndCentre(z, centre);
}

void HeatmapViewport::setZoomAndCentre(double zoomOverFit, const QPointF &centreCell)
{
    scale = std::clamp(fitScale() * zoomOverFit, minScale(), maxZoom());
    origin = area.center() - centreCell * scale;
    clampOrigin();
}

QPointF HeatmapViewport::centreCell() const
{
    return toCell(area.center());
}

QPointF HeatmapViewport::toCell(const QPointF &widget) const
{
    return (widget - origin) / scale;
}

QPointF HeatmapViewport::toWidget(const QPointF &cell) const
{
    return origin + cell * scale;
}

std::optional<QPoint> HeatmapViewport::cellAt(const QPointF &widget) const
{
    if (cells <= 0 || !area.contains(widget))
        return std::nullopt;
    const QPointF c = toCell(widget);
    const int col = static_cast<int>(std::floor(c.x()));
    const int row = static_cast<int>(std::floor(c.y()));
    if (col < 0 || row < 0 || col >= cells || row >= cells)
        return std::nullopt;
    return QPoint(col, row);
}

QRectF HeatmapViewport::cellRect(int row, int column) const
{
    return QRectF(toWidget(QPointF(column, row)), QSizeF(scale, scale));
}

QRect HeatmapViewport::visibleCells() const
{
    if (cells <= 0)
        return {};
    const QPointF a = toCell(area.topLeft());
    const QPointF b = toCell(area.bottomRight());
    const int x0 = std::clamp(static_cast<int>(std::floor(a.x())), 0, cells - 1);
    const int y0 = std::clamp(static_cast<int>(std::floor(a.y())), 0, cells - 1);
    const int x1 = std::clamp(static_cast<int>(std::ceil(b.x())) - 1, 0, cells - 1);
    const int y1 = std::clamp(static_cast<int>(std::ceil(b.y())) - 1, 0, cells - 1);
    return QRect(QPoint(x0, y0), QPoint(x1, y1));
}

void HeatmapViewport::clampOrigin()
{
    const double extent = cells * scale;
    auto clampAxis = [extent](double o, double start, double length) {
        if (extent <= length)
            return start + (length - extent) / 2; // centred
        return std::clamp(o, start + length - extent, start);
    };
    origin.setX(clampAxis(origin.x(), area.left(), area.width()));
    origin.setY(clampAxis(origin.y(), area.top(), area.height()));
}

} // namespace blockscope::views
