// Chart export: PNG, SVG and PDF with the title, axes and legend as they are on screen.
#include "tracechart.h"

namespace blockscope::views {

bool TraceChart::formatForPath(const QString &path, Format *format)
{
    return chartFileFormat(path, format);
}

bool TraceChart::exportTo(const QString &path, Format format, QString *error)
{
    rescale();
    return exportChartFile(m_chart, chartExportSize(m_view), path, format, tr("Blockscope pruning trace"), error);
}

} // namespace blockscope::views
