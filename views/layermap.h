#pragma once

#include "layermapdata.h"
#include "layermapgeometry.h"
#include "prunemetatypes.h"
#include "scorecolourmap.h"

#include <QImage>
#include <QWidget>

namespace blockscope::views {

// Blocks as rows, attention and MLP as columns, each cell coloured by its latest candidate score;
// removed units hatched and numbered in removal order; units switched off for what-if outlined.
// Painted into a cached QImage (a model of hundreds of blocks stays one blit per repaint).
// A click on a cell asks to toggle that sublayer for what-if; a right click, a Shift+click or a
// click on the block label asks to toggle the whole block. Ctrl+wheel (or Ctrl++ / Ctrl+-) zooms
// the rows between their minimum and maximum height; the scroll area around the map scrolls.
class LayerMap : public QWidget
{
    Q_OBJECT
public:
    explicit LayerMap(QWidget *parent = nullptr);

    void setData(LayerMapData data);
    const LayerMapData &data() const { return m_data; }
    void setWhatIfMask(const UnitMask &mask);
    const UnitMask &whatIfMask() const { return m_whatIf; }
    // Read-only maps (the compare view) do not emit unitToggled.
    void setInteractive(bool interactive) { m_interactive = interactive; }
    LayerMapGeometry mapGeometry() const;
    ScoreColourMap colourMap() const { return m_colours; }
    // The cell's text, as the tooltip shows it.
    QString cellDescription(int layer, int column) const;
    // Whether the cell's score is a lower bound (a candidate stopped early).
    bool isBound(std::size_t layer, bool attn) const;

    // Row height as a multiple of the minimum row height, from 1 (the default: rows fit the pane
    // down to LayerMapGeometry::minRowHeight) to maxZoom() (every row at its maximum height).
    void setZoom(double zoom);
    double zoom() const { return m_zoom; }
    static double maxZoom();

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

Q_SIGNALS:
    void unitToggled(blockscope::UnitKind kind, int layer);

protected:
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    bool event(QEvent *event) override;

private:
    void render();
    void paintCell(QPainter &p, const QRect &r, int layer, int column);
    void paintLegend(QPainter &p, const LayerMapGeometry &g);

    LayerMapData m_data;
    UnitMask m_whatIf;
    ScoreColourMap m_colours;
    QImage m_image;
    bool m_interactive = true;
    bool m_scoresLeft = false; // a scored unit is still standing
    bool m_dirty = true;
    double m_zoom = 1.0;
};

} // namespace blockscope::views
