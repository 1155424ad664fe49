#pragma once

#include <QSize>
#include <QString>

QT_BEGIN_NAMESPACE
class QChart;
class QChartView;
QT_END_NAMESPACE

QT_BEGIN_NAMESPACE
class QWidget;
QT_END_NAMESPACE

namespace blockscope::views {

enum class ChartFileFormat { Png, Svg, Pdf };

// What people set for papers and slides: a size in px or cm, the PNG resolution, a font scale and
// a theme. Every chart export of the app uses the current options (chartExportOptions()); the
// export dialog sets them, and they are kept between sessions.
struct ChartExportOptions
{
    enum class Theme { AsShown, Light, Dark, Greyscale };
    double width = 0, height = 0; // 0: the size on screen
    bool centimetres = false; // width and height in cm (at 96 px per inch), else px
    double dpi = 192; // PNG pixels per inch; 96 gives the size in px one to one
    double fontScale = 1.0;
    Theme theme = Theme::AsShown;

    // The export size in px (96 per inch): the options' own, or `shown`.
    QSize pixelSize(const QSize &shown) const;
};
ChartExportOptions chartExportOptions();
void setChartExportOptions(const ChartExportOptions &options);
// Asks for the options in a small dialog (size, unit, DPI, font scale, theme), starting from the
// current ones; true and the options set when the user accepts.
bool chartExportOptionsDialog(QWidget *parent);

// The format a path's suffix (any case) names: false for anything but .png, .svg and .pdf.
bool chartFileFormat(const QString &path, ChartFileFormat *format);
// Writes a chart with its title, axes and legend under chartExportOptions(): PNG at the options'
// DPI, SVG or PDF (vector, one page the chart's size), at the options' size (else `size`, what
// is on screen), font scale and theme. The chart is laid out and styled for the export and put
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
