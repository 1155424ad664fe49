#pragma once

#include <QRect>
#include <QSize>

namespace blockscope::views {

// Where the layer map draws what, and what a point hits: a title line, then blocks as rows with
// attention and MLP as the two columns, block labels on the left, column titles on top, and the
// colour bar with its key at the bottom.
// Rows shrink to fit the height (down to minRowHeight; a taller map scrolls) and grow up to
// maxRowHeight; columns share the width up to maxColumnWidth.
struct LayerMapGeometry
{
    enum Column { AttentionColumn = 0, MlpColumn = 1, ColumnCount = 2 };

    static constexpr int margin = 6;
    static constexpr int labelWidth = 64;
    static constexpr int titleHeight = 18;
    static constexpr int headerHeight = 18;
    static constexpr int legendHeight = 80; // score label, colour bar, its ends, the key
    // Rows stay tall enough for a label and a score in a small font: 30-80 blocks scroll rather
    // than squeeze their labels into each other.
    static constexpr int minRowHeight = 14;
    static constexpr int maxRowHeight = 40;
    static constexpr int maxColumnWidth = 150;
    static constexpr int cellGap = 2;

    QSize size;
    int layers = 0;

    int rowHeight() const;
    int columnWidth() const;
    // The height the map needs for `layers` rows at the minimum row height.
    static int minimumHeight(int layers);

    QRect titleRect() const;
    QRect gridRect() const;
    QRect cellRect(int layer, int column) const;
    QRect rowLabelRect(int layer) const;
    QRect headerRect(int column) const;
    // The colour bar; the score's name goes on the line above it, its range on the line below.
    QRect legendBarRect() const;

    struct Hit
    {
        enum class Part { None, Cell, RowLabel };
        Part part = Part::None;
        int layer = -1;
        int column = -1; // Cell only
        bool operator==(const Hit &) const = default;
    };
    Hit hitTest(QPoint point) const;
};

} // namespace blockscope::views
