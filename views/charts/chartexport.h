#pragma once

#include <QSize>
#include <QString>

QT_BEGIN_NAMESPACE
class QChart;
class QChartView;
QT_END_NAMESPACE

namespace blockscope::views {

// Writes a chart with its title, axes and legend: PNG at twice the size's resolution, SVG or PDF
// (vector, one page the chart's size), chosen by the file's suffix. The chart is laid out at
// `size` for the export and put back afterwards. For the sparsity and loss charts (the trace
// chart predates this and keeps its own copy).
bool exportChartFile(
    QChart *chart, const QSize &size, const QString &path, const QString &description, QString *error = nullptr);
// What the user sees, unless the view was never laid out on screen or is too small to read:
// then 960 x 600.
QSize chartExportSize(const QChartView *view);

} // namespace blockscope::views
