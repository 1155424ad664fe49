#include "heatmapfigure.h"

#include <QFileInfo>
#include <QFontMetrics>
#include <QGuiApplication>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSvgGenerator>

#include <algorithm>
#include <cmath>

namespace blockscope::render {

namespace {
constexpr int gap = 6;

int cells(const HeatmapFigure &f)
{
    return std::max(f.grid.nb, 0);
}

int widestLabel(const HeatmapFigure &f, const QFontMetrics &fm)
{
    if (f.labels.empty())
        return fm.horizontalAdvance(QString::number(std::max(cells(f) - 1, 0))) + 2;
    int w = 0;
    for (const QString &l : f.labels)
        w = std::max(w, fm.horizontalAdvance(l));
    return std::min(w + 2, HeatmapFigureLayout::maxLabelWidth);
}

int widestTick(const ValueScale &scale, const QFontMetrics &fm)
{
    int w = 0;
    for (const auto &t : scale.ticks())
        w = std::max(w, fm.horizontalAdvance(t.text));
    return w;
}

QFont titleFont(const QFont &base)
{
    QFont f = base;
    f.setBold(true);
    f.setPointSizeF(base.pointSizeF() > 0 ? base.pointSizeF() * 1.15 : 11);
    return f;
}

QString labelFor(const HeatmapFigure &f, int index)
{
    if (f.labels.empty() || index >= static_cast<int>(f.labels.size()))
        return QString::number(index);
    return f.labels[static_cast<std::size_t>(index)];
}

void drawRotatedText(QPainter &p, const QRect &area, const QString &text, Qt::Alignment align)
{
    // The text runs bottom to top, centred in `area` (a tall, narrow rectangle).
    p.save();
    p.translate(area.left(), area.bottom() + 1);
    p.rotate(-90);
    p.drawText(QRect(0, 0, area.height(), area.width()), align, text);
    p.restore();
}
} // namespace

std::vector<int> tickIndices(int first, int last, double pixelsPerCell, double minSpacing)
{
    std::vector<int> out;
    if (last < first || !(pixelsPerCell > 0))
        return out;
    int step = 1;
    for (int decade = 1; step * pixelsPerCell < minSpacing && decade < 1'000'000'000; decade *= 10)
        for (int m : {1, 2, 5}) {
            step = m * decade;
            if (step * pixelsPerCell >= minSpacing)
                break;
        }
    for (int i = (first + step - 1) / step * step; i <= last; i += step)
        out.push_back(i);
    return out;
}

HeatmapFigureLayout HeatmapFigureLayout::compute(const HeatmapFigure &figure, const QRect &target, const QFont &font)
{
    HeatmapFigureLayout l;
    const QFontMetrics fm(font);
    const QFontMetrics tfm(titleFont(font));
    const int line = fm.height();
    const bool tokens = !figure.labels.empty();
    const int labelExtent = widestLabel(figure, fm);

    const int titleH = figure.title.isEmpty() ? 0 : tfm.height() + 2;
    const int subtitleH = figure.subtitle.isEmpty() ? 0 : line + 2;
    const int rowTitleW = line + 2;
    const int rowLabelsW = labelExtent + gap;
    const int columnLabelsH = (tokens ? labelExtent : line) + gap;
    const int columnTitleH = line + 2;
    const int keyH = figure.mask.isEmpty() ? 0 : line + 2 * gap;
    const int barLabelsW = gap + widestTick(figure.scale, fm) + gap + line;
    const int rightW = 2 * gap + barWidth + barLabelsW;

    const QRect inner = target.adjusted(margin, margin, -margin, -margin);
    const int availW = inner.width() - rowTitleW - rowLabelsW - rightW;
    const int availH = inner.height() - titleH - subtitleH - gap - columnLabelsH - columnTitleH - keyH;
    int side = std::max(std::min(availW, availH), 16);
    const int n = cells(figure);
    if (n > 0 && side >= n)
        side = side / n * n;

    const int plotX = inner.left() + rowTitleW + rowLabelsW;
    const int plotY = inner.top() + titleH + subtitleH + gap;
    l.plot = QRect(plotX, plotY, side, side);
    // Titles centre over the whole figure width used: axes, plot and colour bar.
    const int usedW = rowTitleW + rowLabelsW + side + rightW;
    l.title = QRect(inner.left(), inner.top(), usedW, titleH);
    l.subtitle = QRect(inner.left(), inner.top() + titleH, usedW, subtitleH);
    l.rowTitle = QRect(inner.left(), plotY, rowTitleW, side);
    l.rowLabels = QRect(inner.left() + rowTitleW, plotY, rowLabelsW - 3, side);
    l.columnLabels = QRect(plotX, plotY + side + 3, side, columnLabelsH - 3);
    l.columnTitle = QRect(plotX, l.columnLabels.bottom() + 1, side, columnTitleH);
    l.colourBar = QRect(plotX + side + 2 * gap, plotY, barWidth, side);
    l.colourBarLabels = QRect(l.colourBar.right() + 1, plotY, barLabelsW, side);
    if (keyH > 0)
        l.maskKey = QRect(inner.left(), l.columnTitle.bottom() + gap, usedW, line + gap);
    return l;
}

void paintColourBar(QPainter &p, const QRect &bar, const QRect &labels, const ValueScale &scale,
    const QString &valueLabel, const FigureStyle &style)
{
    if (bar.height() <= 0 || bar.width() <= 0)
        return;
    p.save();
    QImage strip(1, bar.height(), QImage::Format_RGB32);
    for (int y = 0; y < bar.height(); ++y)
        strip.setPixel(0, y, viridis(1.0 - (y + 0.5) / bar.height()));
    p.drawImage(bar, strip);
    p.setPen(style.frame);
    p.setBrush(Qt::NoBrush);
    p.drawRect(bar.adjusted(0, 0, -1, -1));
    p.setPen(style.text);
    const QFontMetrics fm(p.font());
    for (const auto &t : scale.ticks()) {
        const int y = bar.bottom() - static_cast<int>(std::lround(t.position * (bar.height() - 1)));
        p.drawLine(bar.right() + 1, y, bar.right() + 4, y);
        const QRect text(labels.left() + gap, y - fm.height() / 2, labels.width() - 2 * gap - fm.height(), fm.height());
        p.drawText(text, Qt::AlignLeft | Qt::AlignVCenter, t.text);
    }
    drawRotatedText(p, QRect(labels.right() - fm.height(), labels.top(), fm.height(), labels.height()),
        fm.elidedText(valueLabel, Qt::ElideRight, labels.height()), Qt::AlignCenter);
    p.restore();
}

int maskKeyWidth(const QFont &font, bool partial)
{
    const QFontMetrics fm(font);
    int w = 0;
    for (const QString &t : {QStringLiteral("kept"), QStringLiteral("dropped"), QStringLiteral("forced")})
        w += fm.height() + 4 + fm.horizontalAdvance(t) + 14;
    if (partial)
        w += fm.height() + 4 + fm.horizontalAdvance(QStringLiteral("kept by some heads")) + 14;
    return w;
}

void paintMaskKey(QPainter &p, const QRect &area, bool partial, const FigureStyle &style)
{
    p.save();
    const QFontMetrics fm(p.font());
    const int s = fm.height() - 2;
    const QRgb sample = viridis(0.7);
    struct Item
    {
        QRgb colour;
        QString text;
    };
    std::vector<Item> items{{sample, QStringLiteral("kept")}};
    if (partial)
        items.push_back({maskedColour(sample, 0.5, false), QStringLiteral("kept by some heads")});
    items.push_back({maskedColour(sample, 0.0, false), QStringLiteral("dropped")});
    items.push_back({maskedColour(sample, 1.0, true), QStringLiteral("forced")});
    int x = area.left();
    const int y = area.top() + (area.height() - s) / 2;
    for (const Item &item : items) {
        p.fillRect(QRect(x, y, s, s), QColor(item.colour));
        p.setPen(style.frame);
        p.drawRect(QRect(x, y, s - 1, s - 1));
        p.setPen(style.text);
        const int w = fm.horizontalAdvance(item.text);
        p.drawText(QRect(x + s + 4, area.top(), w + 2, area.height()), Qt::AlignLeft | Qt::AlignVCenter, item.text);
        x += s + 4 + w + 14;
    }
    p.restore();
}

void paintHeatmapFigure(QPainter &p, const HeatmapFigure &figure, const QRect &target, const FigureStyle &style)
{
    const QFont font = style.font;
    const HeatmapFigureLayout l = HeatmapFigureLayout::compute(figure, target, font);
    const QFontMetrics fm(font);
    const int n = cells(figure);
    p.save();
    p.fillRect(target, style.background);
    p.setFont(titleFont(font));
    p.setPen(style.text);
    if (!l.title.isEmpty())
        p.drawText(l.title, Qt::AlignHCenter | Qt::AlignVCenter,
            QFontMetrics(p.font()).elidedText(figure.title, Qt::ElideRight, l.title.width()));
    p.setFont(font);
    if (!l.subtitle.isEmpty())
        p.drawText(l.subtitle, Qt::AlignHCenter | Qt::AlignVCenter,
            fm.elidedText(figure.subtitle, Qt::ElideRight, l.subtitle.width()));

    const QImage pixels
        = heatmapPixels(figure.grid, figure.scale, figure.causal, figure.mask.isEmpty() ? nullptr : &figure.mask);
    if (!pixels.isNull()) {
        // Cells stay crisp when enlarged; a plot smaller than the matrix averages them.
        p.setRenderHint(QPainter::SmoothPixmapTransform, l.plot.width() < n);
        p.drawImage(l.plot, pixels);
        p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    }
    p.setPen(style.frame);
    p.setBrush(Qt::NoBrush);
    p.drawRect(l.plot.adjusted(0, 0, -1, -1));

    if (n > 0) {
        const double cell = static_cast<double>(l.plot.width()) / n;
        const bool tokens = !figure.labels.empty();
        p.setPen(style.text);
        for (int i : tickIndices(0, n - 1, cell, fm.height() + 2)) {
            const int y = l.plot.top() + static_cast<int>((i + 0.5) * cell);
            p.drawLine(l.plot.left() - 3, y, l.plot.left() - 1, y);
            const QString text = fm.elidedText(labelFor(figure, i), Qt::ElideRight, l.rowLabels.width() - 3);
            p.drawText(QRect(l.rowLabels.left(), y - fm.height() / 2, l.rowLabels.width() - 3, fm.height()),
                Qt::AlignRight | Qt::AlignVCenter, text);
        }
        const double columnSpacing = tokens ? fm.height() + 2 : fm.horizontalAdvance(QString::number(n - 1)) + 12;
        for (int j : tickIndices(0, n - 1, cell, columnSpacing)) {
            const int x = l.plot.left() + static_cast<int>((j + 0.5) * cell);
            p.drawLine(x, l.plot.bottom() + 1, x, l.plot.bottom() + 3);
            if (tokens) {
                const QString text = fm.elidedText(labelFor(figure, j), Qt::ElideRight, l.columnLabels.height());
                // Token strings read top to bottom down from the axis.
                p.save();
                p.translate(x + fm.height() / 2 - fm.descent(), l.columnLabels.top());
                p.rotate(90);
                p.drawText(QRect(0, 0, l.columnLabels.height(), fm.height()), Qt::AlignLeft | Qt::AlignVCenter, text);
                p.restore();
            } else {
                const QString text = QString::number(j);
                const int w = fm.horizontalAdvance(text) + 2;
                p.drawText(QRect(x - w / 2, l.columnLabels.top(), w, fm.height()), Qt::AlignCenter, text);
            }
        }
    }
    drawRotatedText(p, l.rowTitle, figure.rowTitle, Qt::AlignCenter);
    p.drawText(l.columnTitle, Qt::AlignHCenter | Qt::AlignVCenter, figure.columnTitle);
    paintColourBar(p, l.colourBar, l.colourBarLabels, figure.scale, figure.valueLabel, style);
    if (!l.maskKey.isEmpty()) {
        bool partial = false;
        for (float k : figure.mask.kept)
            if (k > 0.0f && k < 1.0f) {
                partial = true;
                break;
            }
        paintMaskKey(p, l.maskKey, partial, style);
    }
    p.restore();
}

QSize defaultFigureSize(const HeatmapFigure &figure, const QFont &font)
{
    const int n = std::max(cells(figure), 1);
    const int cell = std::clamp(1024 / n, 4, 16);
    const int side = std::clamp(n * cell, 384, 1024);
    // Lay out a generous canvas, then keep what the layout used around a plot of `side`.
    const QRect probe(0, 0, 4096, 4096);
    const HeatmapFigureLayout l = HeatmapFigureLayout::compute(figure, probe, font);
    const int extraW = probe.width() - l.plot.width() - (probe.right() - l.colourBarLabels.right());
    // Rows from just under the plot to the last one used, inclusive.
    const int below = (l.maskKey.isEmpty() ? l.columnTitle.bottom() : l.maskKey.bottom()) - l.plot.bottom() + 1;
    const int extraH = l.plot.top() + below + HeatmapFigureLayout::margin;
    return {side + extraW + HeatmapFigureLayout::margin, side + extraH};
}

QImage renderHeatmapFigure(const HeatmapFigure &figure, QSize size, qreal devicePixelRatio)
{
    const FigureStyle style;
    if (!size.isValid() || size.isEmpty())
        size = defaultFigureSize(figure, style.font);
    QImage image(size * devicePixelRatio, QImage::Format_ARGB32_Premultiplied);
    image.setDevicePixelRatio(devicePixelRatio);
    image.fill(style.background);
    QPainter p(&image);
    p.setRenderHint(QPainter::TextAntialiasing);
    paintHeatmapFigure(p, figure, QRect(QPoint(0, 0), size), style);
    return image;
}

bool saveHeatmap(const HeatmapFigure &figure, const QString &path, QString *error, QSize size)
{
    auto fail = [&](const QString &message) {
        if (error)
            *error = message;
        return false;
    };
    if (!qobject_cast<QGuiApplication *>(QCoreApplication::instance()))
        return fail(QStringLiteral("drawing a heatmap needs a QGuiApplication (fonts)"));
    const FigureStyle style;
    if (!size.isValid() || size.isEmpty())
        size = defaultFigureSize(figure, style.font);
    const QString suffix = QFileInfo(path).suffix().toLower();
    const QRect target(QPoint(0, 0), size);
    if (suffix == QLatin1String("png")) {
        if (!renderHeatmapFigure(figure, size, 2.0).save(path, "PNG"))
            return fail(QStringLiteral("could not write %1").arg(path));
        return true;
    }
    if (suffix == QLatin1String("svg")) {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(size);
        svg.setViewBox(target);
        svg.setTitle(figure.title);
        svg.setDescription(figure.subtitle);
        QPainter p;
        if (!p.begin(&svg))
            return fail(QStringLiteral("could not write %1").arg(path));
        paintHeatmapFigure(p, figure, target, style);
        p.end();
    } else if (suffix == QLatin1String("pdf")) {
        QPdfWriter pdf(path);
        pdf.setCreator(QStringLiteral("Blockscope"));
        pdf.setTitle(figure.title);
        // One page the figure's size at 96 pixels per inch.
        pdf.setResolution(96);
        pdf.setPageSize(QPageSize(QSizeF(size) * 72.0 / 96.0, QPageSize::Point, QString(), QPageSize::ExactMatch));
        pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
        QPainter p;
        if (!p.begin(&pdf))
            return fail(QStringLiteral("could not write %1").arg(path));
        paintHeatmapFigure(p, figure, QRect(0, 0, pdf.width(), pdf.height()), style);
        p.end();
    } else {
        return fail(QStringLiteral("%1: unknown image format '%2' (use .png, .svg or .pdf)").arg(path, suffix));
    }
    const QFileInfo written(path);
    if (!written.exists() || written.size() == 0)
        return fail(QStringLiteral("could not write %1").arg(path));
    return true;
}

} // namespace blockscope::render
