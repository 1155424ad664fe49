#pragma once

#include <QSize>
#include <QString>

QT_BEGIN_NAMESPACE
class QChart;
class QChartView;
QT_END_NAMESPACE

namespace blockscope::views {

enum class ChartFileFormat { Png, Svg, Pdf };

// The format a path's suffix (any case) names: false for anything but .png, .svg and .pdf.
bool chartFileFormat(const QString &path, ChartFileFormat *format);
// Writes a chart with its title, axes and legend: PNG at twice the size's resolution, SVG or PDF
// (vector, one page the chart's size). The chart is laid out at `size` for the export and put
// back afterwards.
bool exportChartFile(QChart *chart, const QSize &size, const QString &path, ChartFileFormat format,
    const QString &description, QString *error = nullptr);
// The same, in the format the file's suffix names.
bool exportChartFile(
    QChart *chart, const QSize &size, const QString &path, const QString &description, QString *error = nullptr);
// What the user sees, unless the view was never laid out on screen or is too small to read:
// then 960 x 600.
QSize chartExportSize(const QChartView *view);

} // namespace blockscope::views
