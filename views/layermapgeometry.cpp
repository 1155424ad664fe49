#include "layermapgeometry.h"

#include <algorithm>

namespace blockscope::views {

int LayerMapGeometry::rowHeight() const
{
    if (layers <= 0)
        return maxRowHeight;
    const int available = size.height() - 2 * margin - titleHeight - headerHeight - legendHeight;
    return std::clamp(available / layers, minRowHeight, maxRowHeight);
}

int LayerMapGeometry::columnWidth() const
{
    const int available = size.width() - 2 * margin - labelWidth;
    return std::clamp(available / ColumnCount, 1, maxColumnWidth);
}

int LayerMapGeometry::minimumHeight(int layers)
{
    return 2 * margin + titleHeight + headerHeight + legendHeight + std::max(layers, 1) * minRowHeight;
}

QRect LayerMapGeometry::titleRect() const
{
    return QRect(margin, margin, size.width() - 2 * margin, titleHeight);
}

QRect LayerMapGeometry::gridRect() const
{
    return QRect(
        margin + labelWidth, margin + titleHeight + headerHeight, ColumnCount * columnWidth(), layers * rowHeight());
}

QRect LayerMapGeometry::cellRect(int layer, int column) const
{
    if (layer < 0 || layer >= layers || column < 0 || column >= ColumnCount)
        return {};
    const QRect grid = gridRect();
    const int w = columnWidth(), h = rowHeight();
    // The gap sits inside each cell's slot, so cells stay separate at any row height.
    return QRect(grid.left() + column * w, grid.top() + layer * h, w - cellGap, h - cellGap);
}

QRect LayerMapGeometry::rowLabelRect(int layer) const
{
    if (layer < 0 || layer >= layers)
        return {};
    const QRect grid = gridRect();
    return QRect(margin, grid.top() + layer * rowHeight(), labelWidth - 4, rowHeight());
}

QRect LayerMapGeometry::headerRect(int column) const
{
    if (column < 0 || column >= ColumnCount)
        return {};
    return QRect(margin + labelWidth + column * columnWidth(), margin + titleHeight, columnWidth(), headerHeight);
}

QRect LayerMapGeometry::legendBarRect() const
{
    const QRect grid = gridRect();
    return QRect(grid.left(), grid.bottom() + 1 + 28, grid.width(), 12);
}

LayerMapGeometry::Hit LayerMapGeometry::hitTest(QPoint point) const
{
    const QRect grid = gridRect();
    if (layers <= 0 || point.y() < grid.top() || point.y() > grid.bottom())
        return {};
    const int layer = (point.y() - grid.top()) / rowHeight();
    if (point.x() >= grid.left() && point.x() <= grid.right())
        return {Hit::Part::Cell, layer, (point.x() - grid.left()) / columnWidth()};
    if (rowLabelRect(layer).contains(point))
        return {Hit::Part::RowLabel, layer, -1};
    return {};
}

} // namespace blockscope::views
