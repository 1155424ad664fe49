#pragma once

#include "heatmapviewport.h"
#include "render/heatmapfigure.h"

#include <QImage>
#include <QWidget>

namespace blockscope::views {

// One heatmap on screen: the matrix with its axes, the colour bar and the mask key, zoomed with
// the wheel or +/- (around the cursor), panned by dragging or the arrow keys, fitted with 0 or a
// double click; the tooltip names the cell under the cursor (indices, token ranges or token
// strings, value, mask state). The cells are rendered to a one-pixel-per-cell QImage once per
// change of data or mask and scaled without smoothing when painted, so a 512 x 512 block map
// pans as fast as a small one.
class HeatmapView : public QWidget
{
    Q_OBJECT
public:
    explicit HeatmapView(QWidget *parent = nullptr);

    // New data; the zoom resets when the matrix changes size.
    void setFigure(render::HeatmapFigure figure);
    const render::HeatmapFigure &figure() const { return m_figure; }
    // Only the overlay changes (a mask slider): zoom and pan stay. `heads` is how many masks the
    // overlay averages (tooltips say "kept by 3 of 8 heads").
    void setMask(render::MaskOverlay overlay, int heads = 1);
    void setTitle(const QString &title);
    // Views side by side on one scale need one colour bar between them (exports keep theirs).
    void setColourBarVisible(bool visible);
    // Token ranges of block rows and columns in tooltips; 0: not a block map.
    void setBlockInfo(int blockSize, int tokens);
    // No data: the text is shown instead (why there is nothing to draw).
    void clear(const QString &placeholder);
    QString placeholder() const { return m_placeholder; }
    bool hasData() const { return m_figure.grid.nb > 0; }
    const QImage &pixels() const { return m_pixels; }

    const HeatmapViewport &viewport() const { return m_viewport; }
    QRect plotArea() const;
    void zoomIn();
    void zoomOut();
    void fitToView();
    void zoomAt(const QPointF &anchor, double factor);
    void panBy(const QPointF &delta);
    // Follows a linked view (no viewChanged() back).
    void setZoomAndCentre(double zoomOverFit, const QPointF &centreCell);

    // What the tooltip says for a cell.
    QString cellDescription(int row, int column) const;

    // The height at which a view of this width shows its plot as wide as it can be (below it the
    // plot shrinks, above it only blank space grows).
    int preferredHeight(int width) const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

Q_SIGNALS:
    void viewChanged(double zoomOverFit, const QPointF &centreCell);

protected:
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void leaveEvent(QEvent *event) override;
    bool event(QEvent *event) override;

private:
    struct Layout
    {
        QRect title;
        QRect plot;
        QRect rowLabels;
        QRect rowTitle;
        QRect columnLabels;
        QRect columnTitle;
        QRect colourBar;
        QRect colourBarLabels;
        QRect maskKey;
    };
    Layout computeLayout() const { return computeLayout(size()); }
    Layout computeLayout(const QSize &size) const;
    void renderPixels();
    void updateArea();
    void viewMoved();
    void paintAxes(QPainter &p, const Layout &l);
    QString rangeText(int index) const;
    QString labelText(int index) const;

    render::HeatmapFigure m_figure;
    QImage m_pixels;
    HeatmapViewport m_viewport;
    QString m_placeholder;
    int m_maskHeads = 1;
    bool m_colourBar = true;
    int m_blockSize = 0;
    int m_tokens = 0;
    std::optional<QPoint> m_hover;
    QPointF m_dragFrom;
    bool m_dragging = false;
};

} // namespace blockscope::views
