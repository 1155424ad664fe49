#include "layermap.h"

#include "format.h"

#include <QEvent>
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
const QColor removedFill(0xbd, 0xbd, 0xbd);
const QColor removedHatch(0x75, 0x75, 0x75);
const QColor whatIfOutline(0xe6, 0x55, 0x0d); // orange: reads against every viridis colour

QString ordinal(int n)
{
    const int tens = n % 100;
    const char *suffix = (tens >= 11 && tens <= 13) ? "th"
        : n % 10 == 1                               ? "st"
        : n % 10 == 2                               ? "nd"
        : n % 10 == 3                               ? "rd"
                                                    : "th";
    return QString::number(n) + QLatin1String(suffix);
}
} // namespace

LayerMap::LayerMap(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("layerMap"));
    setAttribute(Qt::WA_OpaquePaintEvent);
    setMouseTracking(false);
    setFocusPolicy(Qt::ClickFocus); // Ctrl++ / Ctrl+- zoom
}

void LayerMap::setData(LayerMapData data)
{
    m_data = std::move(data);
    std::vector<double> all = m_data.attnScore;
    all.insert(all.end(), m_data.mlpScore.begin(), m_data.mlpScore.end());
    // Removed units keep the score they had when they were chosen; the range follows the
    // candidates still standing so that the remaining choice stays readable.
    for (int l = 0; l < m_data.layers; ++l) {
        const auto i = static_cast<std::size_t>(l);
        if (m_data.removed.skipAttn[i])
            all[i] = std::nan("");
        if (m_data.removed.skipMlp[i])
            all[i + m_data.attnScore.size()] = std::nan("");
    }
    m_colours = ScoreColourMap::fitting(all);
    m_scoresLeft = std::any_of(all.begin(), all.end(), [](double v) { return !std::isnan(v); });
    m_dirty = true;
    updateGeometry();
    update();
}

void LayerMap::setWhatIfMask(const UnitMask &mask)
{
    m_whatIf = mask;
    m_dirty = true;
    update();
}

LayerMapGeometry LayerMap::mapGeometry() const
{
    return LayerMapGeometry{size(), m_data.layers};
}

QSize LayerMap::sizeHint() const
{
    const int w = 2 * LayerMapGeometry::margin + LayerMapGeometry::labelWidth
        + LayerMapGeometry::ColumnCount * LayerMapGeometry::maxColumnWidth;
    const int rows = std::max(m_data.layers, 1);
    const int h = LayerMapGeometry::minimumHeight(m_data.layers) + rows * (28 - LayerMapGeometry::minRowHeight);
    return {w, std::min(h, 900)};
}

QSize LayerMap::minimumSizeHint() const
{
    const int rows = std::max(m_data.layers, 1);
    const int rowHeight = static_cast<int>(std::lround(LayerMapGeometry::minRowHeight * m_zoom));
    return {2 * LayerMapGeometry::margin + LayerMapGeometry::labelWidth + 2 * 60,
        LayerMapGeometry::minimumHeight(m_data.layers) + rows * (rowHeight - LayerMapGeometry::minRowHeight)};
}

double LayerMap::maxZoom()
{
    return static_cast<double>(LayerMapGeometry::maxRowHeight) / LayerMapGeometry::minRowHeight;
}

void LayerMap::setZoom(double zoom)
{
    zoom = std::clamp(zoom, 1.0, maxZoom());
    if (zoom == m_zoom)
        return;
    m_zoom = zoom;
    updateGeometry(); // the scroll area sizes the map to its minimumSizeHint at least
    m_dirty = true;
    update();
}

void LayerMap::wheelEvent(QWheelEvent *event)
{
    if (!(event->modifiers() & Qt::ControlModifier) || event->angleDelta().y() == 0) {
        event->ignore(); // the scroll area scrolls
        return;
    }
    setZoom(m_zoom * (event->angleDelta().y() > 0 ? 1.25 : 0.8));
    event->accept();
}

void LayerMap::keyPressEvent(QKeyEvent *event)
{
    if (event->modifiers() & Qt::ControlModifier) {
        if (event->key() == Qt::Key_Plus || event->key() == Qt::Key_Equal) {
            setZoom(m_zoom * 1.25);
            return;
        }
        if (event->key() == Qt::Key_Minus) {
            setZoom(m_zoom * 0.8);
            return;
        }
        if (event->key() == Qt::Key_0) {
            setZoom(1.0);
            return;
        }
    }
    QWidget::keyPressEvent(event);
}

void LayerMap::resizeEvent(QResizeEvent *event)
{
    m_dirty = true;
    QWidget::resizeEvent(event);
}

void LayerMap::paintEvent(QPaintEvent *)
{
    if (m_dirty || m_image.size() != size() * devicePixelRatioF())
        render();
    QPainter p(this);
    p.drawImage(0, 0, m_image);
}

void LayerMap::render()
{
    m_dirty = false;
    const qreal dpr = devicePixelRatioF();
    m_image = QImage(size() * dpr, QImage::Format_ARGB32_Premultiplied);
    m_image.setDevicePixelRatio(dpr);
    m_image.fill(palette().color(QPalette::Base));
    QPainter p(&m_image);
    p.setRenderHint(QPainter::Antialiasing, false);
    const LayerMapGeometry g = mapGeometry();

    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    p.setPen(palette().color(QPalette::Text));
    const QString title = m_data.title.isEmpty() ? tr("Layer map") : m_data.title;
    p.drawText(g.titleRect(), Qt::AlignLeft | Qt::AlignVCenter,
        p.fontMetrics().elidedText(title, Qt::ElideRight, g.titleRect().width()));
    p.setFont(font());
    p.drawText(g.headerRect(LayerMapGeometry::AttentionColumn), Qt::AlignCenter, tr("Attention"));
    p.drawText(g.headerRect(LayerMapGeometry::MlpColumn), Qt::AlignCenter, tr("MLP"));
    if (m_data.layers == 0) {
        p.drawText(g.gridRect().adjusted(0, 0, 0, 40), Qt::AlignLeft | Qt::AlignTop, tr("No model open"));
        return;
    }

    QFont small = font();
    small.setPointSizeF(std::max(6.0, font().pointSizeF() * std::min(1.0, g.rowHeight() / 18.0)));
    p.setFont(small);
    const bool labelEvery = g.rowHeight() >= QFontMetrics(small).height();
    const QColor textColour = palette().color(QPalette::Text);
    for (int l = 0; l < m_data.layers; ++l) {
        p.setPen(textColour); // paintCell leaves its own pen behind
        if (labelEvery || l % 5 == 0 || l == m_data.layers - 1)
            p.drawText(g.rowLabelRect(l), Qt::AlignRight | Qt::AlignVCenter, tr("Block %1").arg(l));
        for (int c = 0; c < LayerMapGeometry::ColumnCount; ++c)
            paintCell(p, g.cellRect(l, c), l, c);
    }
    p.setFont(font());
    paintLegend(p, g);
}

void LayerMap::paintCell(QPainter &p, const QRect &r, int layer, int column)
{
    const auto l = static_cast<std::size_t>(layer);
    const bool attn = column == LayerMapGeometry::AttentionColumn;
    const double score = (attn ? m_data.attnScore : m_data.mlpScore)[l];
    const bool removed = (attn ? m_data.removed.skipAttn : m_data.removed.skipMlp)[l];
    const int order = (attn ? m_data.attnOrder : m_data.mlpOrder)[l];
    const bool whatIf = m_whatIf.layers() == m_data.layers && (attn ? m_whatIf.skipAttn : m_whatIf.skipMlp)[l];

    QColor text;
    QString label;
    if (removed) {
        p.fillRect(r, removedFill);
        p.fillRect(r, QBrush(removedHatch, Qt::BDiagPattern));
        text = Qt::black;
        label = order > 0 ? QString::number(order) : QStringLiteral("\u00d7");
    } else {
        const QColor fill = m_colours.colour(score);
        p.fillRect(r, fill);
        text = ScoreColourMap::textColourOn(fill);
        if (!std::isnan(score))
            label = (isBound(l, attn) ? QStringLiteral("\u2265") : QString()) + formatStat(score);
    }
    if (whatIf) {
        const int w = std::clamp(r.height() / 6, 2, 4);
        p.setPen(QPen(whatIfOutline, w, Qt::SolidLine, Qt::SquareCap, Qt::MiterJoin));
        p.setBrush(Qt::NoBrush);
        p.drawRect(r.adjusted(w / 2, w / 2, -(w + 1) / 2, -(w + 1) / 2));
        if (!removed)
            label = label.isEmpty() ? tr("off") : tr("off \u00b7 %1").arg(label);
    }
    if (label.isEmpty() || r.height() < QFontMetrics(p.font()).height() - 2)
        return;
    QFont f = p.font();
    f.setBold(removed);
    p.save();
    if (removed) {
        // A white plate keeps the order number legible over the hatching.
        const QFontMetrics fm(f);
        const QRect plate = fm.boundingRect(label).adjusted(-4, -1, 4, 1);
        QRect centred = plate;
        centred.moveCenter(r.center());
        p.fillRect(centred.intersected(r), QColor(255, 255, 255, 220));
    }
    p.setFont(f);
    p.setPen(text);
    p.drawText(r, Qt::AlignCenter, QFontMetrics(f).elidedText(label, Qt::ElideRight, r.width() - 4));
    p.restore();
}

void LayerMap::paintLegend(QPainter &p, const LayerMapGeometry &g)
{
    const QRect bar = g.legendBarRect();
    if (bar.width() <= 2)
        return;
    const QFontMetrics fm(p.font());
    QImage ramp(256, 1, QImage::Format_RGB32);
    for (int x = 0; x < 256; ++x)
        ramp.setPixel(x, 0, ScoreColourMap::atPosition(x / 255.0).rgb());
    p.setPen(palette().color(QPalette::Text));
    const int lineHeight = fm.height();
    const QRect name(bar.left(), bar.top() - lineHeight - 3, bar.width(), lineHeight);
    QRect labels(bar.left(), bar.bottom() + 3, bar.width(), lineHeight);
    if (m_scoresLeft) {
        p.drawText(name, Qt::AlignHCenter | Qt::AlignVCenter,
            fm.elidedText(
                m_data.scoreLabel.isEmpty() ? tr("candidate score") : m_data.scoreLabel, Qt::ElideRight, name.width()));
        p.drawImage(bar, ramp);
        p.drawText(labels, Qt::AlignLeft | Qt::AlignVCenter, formatStat(m_colours.low));
        p.drawText(labels, Qt::AlignRight | Qt::AlignVCenter, formatStat(m_colours.high));
    } else {
        p.fillRect(bar.adjusted(0, -name.height() - 3, 0, 0), ScoreColourMap::missingColour());
        // No candidates yet, none left standing, or a method without candidate scores.
        const QString why = m_data.hasScores() ? tr("no candidates left")
            : m_data.scoreLabel.isEmpty()      ? tr("no scores yet")
                                               : m_data.scoreLabel;
        p.drawText(bar.adjusted(0, -name.height() - 3, 0, 0), Qt::AlignCenter, why);
    }

    // The key: hatched = removed (number = order), outlined = switched off for what-if.
    const int y = labels.bottom() + 4;
    const QRect hatch(bar.left(), y + 2, 14, lineHeight - 4);
    p.fillRect(hatch, removedFill);
    p.fillRect(hatch, QBrush(removedHatch, Qt::BDiagPattern));
    const QString removedText = tr("removed (n = order)");
    p.drawText(QRect(hatch.right() + 4, y, fm.horizontalAdvance(removedText) + 2, lineHeight),
        Qt::AlignLeft | Qt::AlignVCenter, removedText);
    if (!m_interactive)
        return; // a read-only map has no what-if
    const QRect off(hatch.right() + 14 + fm.horizontalAdvance(removedText), y + 2, 14, lineHeight - 4);
    p.setPen(QPen(whatIfOutline, 2));
    p.drawRect(off.adjusted(1, 1, -1, -1));
    p.setPen(palette().color(QPalette::Text));
    p.drawText(QRect(off.right() + 4, y, bar.right() - off.right(), lineHeight), Qt::AlignLeft | Qt::AlignVCenter,
        tr("what-if off"));
}

bool LayerMap::isBound(std::size_t layer, bool attn) const
{
    const auto &bounds = attn ? m_data.attnBound : m_data.mlpBound;
    return layer < bounds.size() && bounds[layer];
}

QString LayerMap::cellDescription(int layer, int column) const
{
    if (layer < 0 || layer >= m_data.layers || column < 0 || column >= LayerMapGeometry::ColumnCount)
        return {};
    const auto l = static_cast<std::size_t>(layer);
    const bool attn = column == LayerMapGeometry::AttentionColumn;
    QStringList parts{tr("Block %1 %2").arg(layer).arg(attn ? tr("attention") : tr("MLP"))};
    const double score = (attn ? m_data.attnScore : m_data.mlpScore)[l];
    if (!std::isnan(score))
        parts << (isBound(l, attn) ? tr("%1: \u2265 %2 (stopped early: it could not win; a lower bound)")
                                   : tr("%1: %2"))
                     .arg(m_data.scoreLabel.isEmpty() ? tr("score") : m_data.scoreLabel, formatStat(score));
    if ((attn ? m_data.removed.skipAttn : m_data.removed.skipMlp)[l]) {
        const int order = (attn ? m_data.attnOrder : m_data.mlpOrder)[l];
        parts << (order > 0 ? tr("removed %1").arg(ordinal(order)) : tr("removed"));
    }
    if (m_whatIf.layers() == m_data.layers && (attn ? m_whatIf.skipAttn : m_whatIf.skipMlp)[l])
        parts << tr("off for what-if");
    return parts.join(QStringLiteral(" \u00b7 "));
}

bool LayerMap::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const auto hit = mapGeometry().hitTest(help->pos());
        QString tip;
        if (hit.part == LayerMapGeometry::Hit::Part::Cell)
            tip = cellDescription(hit.layer, hit.column);
        else if (hit.part == LayerMapGeometry::Hit::Part::RowLabel)
            tip = tr("Block %1: click to switch the whole block off or on for what-if").arg(hit.layer);
        if (!tip.isEmpty() && m_interactive && hit.part == LayerMapGeometry::Hit::Part::Cell)
            tip += tr("\nClick: switch this sublayer off/on for what-if; right click or Shift+click: the block");
        if (tip.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(help->globalPos(), tip, this);
        return true;
    }
    return QWidget::event(event);
}

void LayerMap::mousePressEvent(QMouseEvent *event)
{
    const auto hit = mapGeometry().hitTest(event->position().toPoint());
    if (!m_interactive || hit.part == LayerMapGeometry::Hit::Part::None) {
        QWidget::mousePressEvent(event);
        return;
    }
    const bool wholeBlock = hit.part == LayerMapGeometry::Hit::Part::RowLabel || event->button() == Qt::RightButton
        || (event->modifiers() & (Qt::ShiftModifier | Qt::ControlModifier));
    if (event->button() != Qt::LeftButton && event->button() != Qt::RightButton)
        return;
    event->accept();
    if (wholeBlock)
        Q_EMIT unitToggled(UnitKind::Block, hit.layer);
    else
        Q_EMIT unitToggled(
            hit.column == LayerMapGeometry::AttentionColumn ? UnitKind::Attention : UnitKind::Mlp, hit.layer);
}

} // namespace blockscope::views
