#include "heatmapview.h"

#include <QFontMetrics>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace blockscope::views {

namespace {
constexpr double zoomStep = 1.25;
constexpr int gap = 6;
constexpr int barWidth = 12;
constexpr int maxTokenLabel = 110;
} // namespace

HeatmapView::HeatmapView(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("heatmapView"));
    setAttribute(Qt::WA_OpaquePaintEvent);
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setCursor(Qt::CrossCursor);
}

void HeatmapView::setFigure(render::HeatmapFigure figure)
{
    const int before = m_figure.grid.nb;
    m_figure = std::move(figure);
    m_placeholder.clear();
    m_hover.reset();
    renderPixels();
    m_viewport.cells = m_figure.grid.nb;
    updateArea();
    if (before != m_figure.grid.nb)
        m_viewport.fit();
    update();
}

void HeatmapView::setMask(render::MaskOverlay overlay, int heads)
{
    const bool keyChanged = overlay.isEmpty() != m_figure.mask.isEmpty();
    m_figure.mask = std::move(overlay);
    m_maskHeads = std::max(heads, 1);
    renderPixels();
    if (keyChanged)
        updateArea();
    update();
}

void HeatmapView::setTitle(const QString &title)
{
    m_figure.title = title;
    update();
}

void HeatmapView::setColourBarVisible(bool visible)
{
    m_colourBar = visible;
    updateArea();
    update();
}

void HeatmapView::setBlockInfo(int blockSize, int tokens)
{
    m_blockSize = blockSize;
    m_tokens = tokens;
}

void HeatmapView::clear(const QString &placeholder)
{
    m_figure.grid = sparse::BlockGrid();
    m_figure.mask = {};
    m_figure.labels.clear();
    m_pixels = QImage();
    m_placeholder = placeholder;
    m_viewport.cells = 0;
    m_hover.reset();
    update();
}

void HeatmapView::renderPixels()
{
    m_pixels = render::heatmapPixels(
        m_figure.grid, m_figure.scale, m_figure.causal, m_figure.mask.isEmpty() ? nullptr : &m_figure.mask);
}

HeatmapView::Layout HeatmapView::computeLayout(const QSize &size) const
{
    Layout l;
    const QFontMetrics fm(font());
    const int line = fm.height();
    const bool tokens = !m_figure.labels.empty();
    int labelW = fm.horizontalAdvance(QString::number(std::max(m_figure.grid.nb - 1, 0))) + 4;
    if (tokens) {
        labelW = 0;
        for (const QString &s : m_figure.labels)
            labelW = std::max(labelW, fm.horizontalAdvance(s));
        labelW = std::min(labelW + 4, maxTokenLabel);
    }
    int tickW = 0;
    for (const auto &t : m_figure.scale.ticks())
        tickW = std::max(tickW, fm.horizontalAdvance(t.text));
    const QRect r = QRect(QPoint(0, 0), size).adjusted(gap, gap / 2, -gap, -gap / 2);
    l.title = QRect(r.left(), r.top(), r.width(), line + 4);
    const int rowTitleW = line + 2;
    const int rowLabelsW = labelW + gap;
    const int columnLabelsH = (tokens ? labelW : line) + gap;
    const int columnTitleH = line + 2;
    const int keyH = m_figure.mask.isEmpty() ? 0 : line + gap;
    const int barLabelsW = gap + tickW + gap + line;
    const int rightW = m_colourBar ? 2 * gap + barWidth + barLabelsW : gap;
    const int top = l.title.bottom() + 1 + gap / 2;
    const int availW = r.width() - rowTitleW - rowLabelsW - rightW;
    const int availH = r.bottom() - top - columnLabelsH - columnTitleH - keyH;
    const int side = std::max(std::min(availW, availH), 24);
    const int plotX = r.left() + rowTitleW + rowLabelsW;
    l.plot = QRect(plotX, top, side, side);
    l.rowTitle = QRect(r.left(), top, rowTitleW, side);
    l.rowLabels = QRect(r.left() + rowTitleW, top, rowLabelsW - 3, side);
    l.columnLabels = QRect(plotX, top + side + 3, side, columnLabelsH - 3);
    l.columnTitle = QRect(plotX, l.columnLabels.bottom() + 1, side, columnTitleH);
    l.colourBar = QRect(plotX + side + 2 * gap, top, barWidth, side);
    l.colourBarLabels = QRect(l.colourBar.right() + 1, top, barLabelsW, side);
    if (keyH > 0)
        l.maskKey = QRect(r.left(), l.columnTitle.bottom() + 2, r.width(), line + 2);
    return l;
}

int HeatmapView::preferredHeight(int width) const
{
    const Layout l = computeLayout(QSize(width, 100000));
    const int bottom = l.maskKey.isEmpty() ? l.columnTitle.bottom() : l.maskKey.bottom();
    return bottom + 1 - l.plot.height() + l.plot.width() + gap;
}

QRect HeatmapView::plotArea() const
{
    return computeLayout().plot;
}

void HeatmapView::updateArea()
{
    m_viewport.setArea(QRectF(plotArea()));
}

void HeatmapView::resizeEvent(QResizeEvent *event)
{
    updateArea();
    QWidget::resizeEvent(event);
}

QSize HeatmapView::sizeHint() const
{
    return {520, 560};
}

QSize HeatmapView::minimumSizeHint() const
{
    return {200, 220};
}

void HeatmapView::zoomIn()
{
    zoomAt(m_viewport.area.center(), zoomStep);
}

void HeatmapView::zoomOut()
{
    zoomAt(m_viewport.area.center(), 1.0 / zoomStep);
}

void HeatmapView::fitToView()
{
    m_viewport.fit();
    viewMoved();
}

void HeatmapView::zoomAt(const QPointF &anchor, double factor)
{
    m_viewport.zoomAt(anchor, factor);
    viewMoved();
}

void HeatmapView::panBy(const QPointF &delta)
{
    m_viewport.panBy(delta);
    viewMoved();
}

void HeatmapView::setZoomAndCentre(double zoomOverFit, const QPointF &centreCell)
{
    m_viewport.setZoomAndCentre(zoomOverFit, centreCell);
    update();
}

void HeatmapView::viewMoved()
{
    update();
    Q_EMIT viewChanged(m_viewport.zoom(), m_viewport.centreCell());
}

QString HeatmapView::labelText(int index) const
{
    if (index >= 0 && index < static_cast<int>(m_figure.labels.size()))
        return m_figure.labels[static_cast<std::size_t>(index)];
    return QString::number(index);
}

QString HeatmapView::rangeText(int index) const
{
    if (!m_figure.labels.empty())
        return QStringLiteral("%1 \u201c%2\u201d").arg(index).arg(labelText(index));
    if (m_blockSize <= 0)
        return QString::number(index);
    const int first = index * m_blockSize;
    const int last = m_tokens > 0 ? std::min(first + m_blockSize, m_tokens) - 1 : first + m_blockSize - 1;
    return tr("%1 (tokens %2\u2013%3)").arg(index).arg(first).arg(last);
}

QString HeatmapView::cellDescription(int row, int column) const
{
    const int n = m_figure.grid.nb;
    if (row < 0 || column < 0 || row >= n || column >= n)
        return {};
    QString text = QStringLiteral("%1 %2\n%3 %4")
                       .arg(m_figure.rowTitle, rangeText(row), m_figure.columnTitle, rangeText(column));
    if (m_figure.causal && column > row)
        return text + QLatin1Char('\n') + tr("above the diagonal: never attended (causal)");
    text += QLatin1Char('\n') + tr("value: %1").arg(m_figure.scale.describe(m_figure.grid.at(row, column)));
    if (!m_figure.mask.isEmpty() && m_figure.mask.size == n) {
        const float kept = m_figure.mask.keptAt(row, column);
        QString state;
        if (m_figure.mask.forcedAt(row, column))
            state = tr("forced");
        else if (kept >= 1.0f)
            state = m_maskHeads > 1 ? tr("kept by all %1 heads").arg(m_maskHeads) : tr("kept (selected)");
        else if (kept <= 0.0f)
            state = m_maskHeads > 1 ? tr("dropped by all %1 heads").arg(m_maskHeads) : tr("dropped");
        else
            state = tr("kept by %1 of %2 heads").arg(std::lround(kept * m_maskHeads)).arg(m_maskHeads);
        text += QLatin1Char('\n') + tr("mask: %1").arg(state);
    }
    return text;
}

void HeatmapView::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.fillRect(rect(), palette().color(QPalette::Base));
    const Layout l = computeLayout();
    render::FigureStyle style;
    style.font = font();
    style.text = palette().color(QPalette::Text);
    style.background = palette().color(QPalette::Base);

    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    p.setPen(style.text);
    p.drawText(l.title, Qt::AlignLeft | Qt::AlignVCenter,
        QFontMetrics(bold).elidedText(m_figure.title, Qt::ElideRight, l.title.width()));
    p.setFont(font());
    if (!hasData()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(
            rect().adjusted(20, l.title.bottom() + 10, -20, -10), Qt::AlignCenter | Qt::TextWordWrap, m_placeholder);
        return;
    }

    // Only the visible part of the image, scaled to the cells' on-screen rectangle.
    const QRect visible = m_viewport.visibleCells();
    const QRectF target(m_viewport.toWidget(visible.topLeft()),
        m_viewport.toWidget(QPointF(visible.right() + 1, visible.bottom() + 1)));
    p.save();
    p.setClipRect(l.plot);
    p.fillRect(l.plot, QColor(render::backgroundColour()));
    p.setRenderHint(QPainter::SmoothPixmapTransform, m_viewport.scale < 1.0);
    p.drawImage(target, m_pixels, QRectF(visible.topLeft(), QSizeF(visible.width(), visible.height())));
    if (m_viewport.scale >= 10) {
        // Cell borders once cells are large enough to tell apart.
        QColor grid = palette().color(QPalette::Base);
        grid.setAlpha(70);
        p.setPen(QPen(grid, 1));
        for (int i = visible.left(); i <= visible.right() + 1; ++i) {
            const double x = m_viewport.toWidget(QPointF(i, 0)).x();
            p.drawLine(QPointF(x, target.top()), QPointF(x, target.bottom()));
        }
        for (int i = visible.top(); i <= visible.bottom() + 1; ++i) {
            const double y = m_viewport.toWidget(QPointF(0, i)).y();
            p.drawLine(QPointF(target.left(), y), QPointF(target.right(), y));
        }
    }
    if (m_hover && m_viewport.scale >= 4) {
        p.setPen(QPen(palette().color(QPalette::Text), 1.5));
        p.setBrush(Qt::NoBrush);
        p.drawRect(m_viewport.cellRect(m_hover->y(), m_hover->x()));
    }
    p.restore();
    p.setPen(style.frame);
    p.setBrush(Qt::NoBrush);
    p.drawRect(l.plot.adjusted(0, 0, -1, -1));
    paintAxes(p, l);
    if (m_colourBar)
        render::paintColourBar(p, l.colourBar, l.colourBarLabels, m_figure.scale, m_figure.valueLabel, style);
    if (!l.maskKey.isEmpty()) {
        bool partial = false;
        for (float k : m_figure.mask.kept)
            if (k > 0.0f && k < 1.0f) {
                partial = true;
                break;
            }
        render::paintMaskKey(p, l.maskKey, partial, style);
    }
}

void HeatmapView::paintAxes(QPainter &p, const Layout &l)
{
    const QFontMetrics fm(font());
    const QRect visible = m_viewport.visibleCells();
    const double scale = m_viewport.scale;
    const bool tokens = !m_figure.labels.empty();
    p.setPen(palette().color(QPalette::Text));
    for (int i : render::tickIndices(visible.top(), visible.bottom(), scale, fm.height() + 2)) {
        const double y = m_viewport.toWidget(QPointF(0, i + 0.5)).y();
        if (y < l.plot.top() || y > l.plot.bottom())
            continue;
        p.drawLine(QPointF(l.plot.left() - 3, y), QPointF(l.plot.left() - 1, y));
        p.drawText(QRectF(l.rowLabels.left(), y - fm.height() / 2.0, l.rowLabels.width() - 3, fm.height()),
            Qt::AlignRight | Qt::AlignVCenter, fm.elidedText(labelText(i), Qt::ElideRight, l.rowLabels.width() - 3));
    }
    const double spacing
        = tokens ? fm.height() + 2 : fm.horizontalAdvance(QString::number(std::max(m_figure.grid.nb - 1, 0))) + 12;
    for (int j : render::tickIndices(visible.left(), visible.right(), scale, spacing)) {
        const double x = m_viewport.toWidget(QPointF(j + 0.5, 0)).x();
        if (x < l.plot.left() || x > l.plot.right())
            continue;
        p.drawLine(QPointF(x, l.plot.bottom() + 1), QPointF(x, l.plot.bottom() + 3));
        if (tokens) {
            p.save();
            p.translate(x + fm.height() / 2.0 - fm.descent(), l.columnLabels.top());
            p.rotate(90);
            p.drawText(QRect(0, 0, l.columnLabels.height(), fm.height()), Qt::AlignLeft | Qt::AlignVCenter,
                fm.elidedText(labelText(j), Qt::ElideRight, l.columnLabels.height()));
            p.restore();
        } else {
            const QString text = QString::number(j);
            const int w = fm.horizontalAdvance(text) + 2;
            p.drawText(QRectF(x - w / 2.0, l.columnLabels.top(), w, fm.height()), Qt::AlignCenter, text);
        }
    }
    p.save();
    p.translate(l.rowTitle.left(), l.rowTitle.bottom() + 1);
    p.rotate(-90);
    p.drawText(QRect(0, 0, l.rowTitle.height(), l.rowTitle.width()), Qt::AlignCenter, m_figure.rowTitle);
    p.restore();
    QString columnTitle = m_figure.columnTitle;
    if (!m_viewport.isFitted())
        columnTitle += tr("  (zoom %1\u00d7; 0 to fit)").arg(m_viewport.zoom(), 0, 'f', 1);
    p.drawText(l.columnTitle, Qt::AlignHCenter | Qt::AlignVCenter, columnTitle);
}

void HeatmapView::wheelEvent(QWheelEvent *event)
{
    if (!hasData())
        return;
    const double steps = event->angleDelta().y() / 120.0;
    if (steps != 0)
        zoomAt(event->position(), std::pow(zoomStep, steps));
    event->accept();
}

void HeatmapView::mousePressEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton && plotArea().contains(event->position().toPoint())) {
        m_dragging = true;
        m_dragFrom = event->position();
        setCursor(Qt::ClosedHandCursor);
    }
    QWidget::mousePressEvent(event);
}

void HeatmapView::mouseMoveEvent(QMouseEvent *event)
{
    if (m_dragging) {
        panBy(event->position() - m_dragFrom);
        m_dragFrom = event->position();
    }
    const auto hover = m_viewport.cellAt(event->position());
    if (hover != m_hover) {
        m_hover = hover;
        update();
    }
    QWidget::mouseMoveEvent(event);
}

void HeatmapView::mouseReleaseEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton && m_dragging) {
        m_dragging = false;
        setCursor(Qt::CrossCursor);
    }
    QWidget::mouseReleaseEvent(event);
}

void HeatmapView::mouseDoubleClickEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton)
        fitToView();
    QWidget::mouseDoubleClickEvent(event);
}

void HeatmapView::keyPressEvent(QKeyEvent *event)
{
    const double step = std::max(20.0, m_viewport.area.width() / 8);
    switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal: zoomIn(); break;
    case Qt::Key_Minus: zoomOut(); break;
    case Qt::Key_0: fitToView(); break;
    case Qt::Key_Left: panBy(QPointF(step, 0)); break;
    case Qt::Key_Right: panBy(QPointF(-step, 0)); break;
    case Qt::Key_Up: panBy(QPointF(0, step)); break;
    case Qt::Key_Down: panBy(QPointF(0, -step)); break;
    default: QWidget::keyPressEvent(event); return;
    }
    event->accept();
}

void HeatmapView::leaveEvent(QEvent *event)
{
    if (m_hover) {
        m_hover.reset();
        update();
    }
    QWidget::leaveEvent(event);
}

bool HeatmapView::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const auto cell = m_viewport.cellAt(help->pos());
        if (cell)
            QToolTip::showText(help->globalPos(), cellDescription(cell->y(), cell->x()), this);
        else
            QToolTip::hideText();
        return true;
    }
    return QWidget::event(event);
}

} // namespace blockscope::views
