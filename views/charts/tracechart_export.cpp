// Chart export: PNG, SVG and PDF with the title, axes and legend as they are on screen.
#include "tracechart.h"

#include <QChart>
#include <QChartView>
#include <QCoreApplication>
#include <QFileInfo>
#include <QGraphicsLayout>
#include <QGraphicsScene>
#include <QImage>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSvgGenerator>

namespace blockscope::views {

namespace {
const QSize fallbackSize(960, 600);
}

bool TraceChart::formatForPath(const QString &path, Format *format)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("png"))
        *format = Format::Png;
    else if (suffix == QLatin1String("svg"))
        *format = Format::Svg;
    else if (suffix == QLatin1String("pdf"))
        *format = Format::Pdf;
    else
        return false;
    return true;
}

QSize TraceChart::exportSize() const
{
    // What the user sees, unless the chart was never laid out on screen (tests, scripts) or is
    // too small to read.
    const QSize s = m_view->isVisible() ? m_view->size() : QSize();
    return s.width() >= 400 && s.height() >= 250 ? s : fallbackSize;
}

void TraceChart::renderTo(QPainter *painter, const QRectF &target)
{
    rescale();
    const QSize size = target.size().toSize();
    const QRectF shown = m_chart->geometry();
    const bool relayout = shown.size().toSize() != size;
    if (relayout) {
        m_chart->resize(size);
        if (m_chart->layout())
            m_chart->layout()->activate();
    }
    QCoreApplication::sendPostedEvents(m_chart); // pending layout requests of the chart items
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setRenderHint(QPainter::TextAntialiasing);
    m_chart->scene()->render(painter, target, QRectF(m_chart->pos(), QSizeF(size)));
    if (relayout) {
        m_chart->resize(shown.size());
        if (m_chart->layout())
            m_chart->layout()->activate();
    }
}

bool TraceChart::exportTo(const QString &path, Format format, QString *error)
{
    auto fail = [&](const QString &message) {
        if (error)
            *error = message;
        return false;
    };
    const QSize size = exportSize();
    const QRectF target(QPointF(0, 0), QSizeF(size));
    switch (format) {
    case Format::Png: {
        QImage image(size * 2, QImage::Format_ARGB32_Premultiplied);
        image.setDevicePixelRatio(2);
        image.fill(Qt::white);
        {
            QPainter painter(&image);
            renderTo(&painter, target);
        }
        if (!image.save(path, "PNG"))
            return fail(tr("Could not write %1").arg(path));
        return true;
    }
    case Format::Svg: {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(size);
        svg.setViewBox(QRect(QPoint(0, 0), size));
        svg.setTitle(m_chart->title());
        svg.setDescription(tr("Blockscope pruning trace"));
        QPainter painter;
        if (!painter.begin(&svg))
            return fail(tr("Could not write %1").arg(path));
        renderTo(&painter, target);
        painter.end();
        break;
    }
    case Format::Pdf: {
        QPdfWriter pdf(path);
        pdf.setCreator(QStringLiteral("Blockscope"));
        pdf.setTitle(m_chart->title());
        // One page the chart's size: 96 px per inch, so the page is the on-screen size in inches.
        pdf.setResolution(96);
        pdf.setPageSize(QPageSize(QSizeF(size) * 72.0 / 96.0, QPageSize::Point, QString(), QPageSize::ExactMatch));
        pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
        QPainter painter;
        if (!painter.begin(&pdf))
            return fail(tr("Could not write %1").arg(path));
        renderTo(&painter, QRectF(0, 0, pdf.width(), pdf.height()));
        painter.end();
        break;
    }
    }
    const QFileInfo written(path);
    if (!written.exists() || written.size() == 0)
        return fail(tr("Could not write %1").arg(path));
    return true;
}

} // namespace blockscope::views
