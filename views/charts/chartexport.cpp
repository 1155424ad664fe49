#include "chartexport.h"

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
void renderChart(QChart *chart, QPainter *painter, const QRectF &target, const QSize &size)
{
    const QRectF shown = chart->geometry();
    const bool relayout = shown.size().toSize() != size;
    if (relayout) {
        chart->resize(size);
        if (chart->layout())
            chart->layout()->activate();
    }
    QCoreApplication::sendPostedEvents(chart); // pending layout requests of the chart items
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setRenderHint(QPainter::TextAntialiasing);
    chart->scene()->render(painter, target, QRectF(chart->pos(), QSizeF(size)));
    if (relayout) {
        chart->resize(shown.size());
        if (chart->layout())
            chart->layout()->activate();
    }
}
} // namespace

QSize chartExportSize(const QChartView *view)
{
    const QSize s = view && view->isVisible() ? view->size() : QSize();
    return s.width() >= 400 && s.height() >= 250 ? s : QSize(960, 600);
}

bool chartFileFormat(const QString &path, ChartFileFormat *format)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("png"))
        *format = ChartFileFormat::Png;
    else if (suffix == QLatin1String("svg"))
        *format = ChartFileFormat::Svg;
    else if (suffix == QLatin1String("pdf"))
        *format = ChartFileFormat::Pdf;
    else
        return false;
    return true;
}

bool exportChartFile(QChart *chart, const QSize &size, const QString &path, const QString &description, QString *error)
{
    ChartFileFormat format;
    if (!chartFileFormat(path, &format)) {
        if (error)
            *error = QCoreApplication::translate("ChartExport", "%1: use .png, .svg or .pdf").arg(path);
        return false;
    }
    return exportChartFile(chart, size, path, format, description, error);
}

bool exportChartFile(QChart *chart, const QSize &size, const QString &path, ChartFileFormat format,
    const QString &description, QString *error)
{
    auto fail = [&](const QString &message) {
        if (error)
            *error = message;
        return false;
    };
    const QRectF target(QPointF(0, 0), QSizeF(size));
    switch (format) {
    case ChartFileFormat::Png: {
        QImage image(size * 2, QImage::Format_ARGB32_Premultiplied);
        image.setDevicePixelRatio(2);
        image.fill(Qt::white);
        {
            QPainter painter(&image);
            renderChart(chart, &painter, target, size);
        }
        if (!image.save(path, "PNG"))
            return fail(QCoreApplication::translate("ChartExport", "Could not write %1").arg(path));
        return true;
    }
    case ChartFileFormat::Svg: {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(size);
        svg.setViewBox(QRect(QPoint(0, 0), size));
        svg.setTitle(chart->title());
        svg.setDescription(description);
        QPainter painter;
        if (!painter.begin(&svg))
            return fail(QCoreApplication::translate("ChartExport", "Could not write %1").arg(path));
        renderChart(chart, &painter, target, size);
        painter.end();
        break;
    }
    case ChartFileFormat::Pdf: {
        QPdfWriter pdf(path);
        pdf.setCreator(QStringLiteral("Blockscope"));
        pdf.setTitle(chart->title());
        // One page the chart's size: 96 px per inch, so the page is the on-screen size in inches.
        pdf.setResolution(96);
        pdf.setPageSize(QPageSize(QSizeF(size) * 72.0 / 96.0, QPageSize::Point, QString(), QPageSize::ExactMatch));
        pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
        QPainter painter;
        if (!painter.begin(&pdf))
            return fail(QCoreApplication::translate("ChartExport", "Could not write %1").arg(path));
        renderChart(chart, &painter, QRectF(0, 0, pdf.width(), pdf.height()), size);
        painter.end();
        break;
    }
    }
    const QFileInfo written(path);
    if (!written.exists() || written.size() == 0)
        return fail(QCoreApplication::translate("ChartExport", "Could not write %1").arg(path));
    return true;
}

} // namespace blockscope::views
