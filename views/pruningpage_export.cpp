// Exports: the trace chart as PNG, SVG or PDF; a run's steps as CSV or JSON (core's trace export,
// the same text `blockscope-cli` writes).
#include "ppaexport.h"
#include "pruningpage.h"

#include "charts/tracechart.h"
#include "messagebanner.h"
#include "runlistmodel.h"
#include "store/traceexport.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QStandardPaths>

namespace blockscope::views {

bool PruningPage::exportChart(const QString &path, QString *error)
{
    TraceChart::Format format;
    if (!TraceChart::formatForPath(path, &format)) {
        if (error)
            *error = tr("Unknown chart format %1: use .png, .svg or .pdf").arg(QFileInfo(path).suffix());
        return false;
    }
    return m_chart->exportTo(path, format, error);
}

bool PruningPage::exportTrace(int row, const QString &path, QString *error)
{
    auto fail = [&](const QString &message) {
        if (error)
            *error = message;
        return false;
    };
    if (row < 0 || row >= runCount())
        return fail(tr("No run selected"));
    const QString suffix = QFileInfo(path).suffix().toLower();
    const ExperimentRun run = runSnapshot(row);
    std::string text;
    try {
        if (suffix == QLatin1String("csv"))
            text = runToCsv(run);
        else if (suffix == QLatin1String("json"))
            text = runToJson(run).dump(2) + "\n";
        else
            return fail(tr("Unknown trace format %1: use .csv or .json").arg(suffix));
    } catch (const std::exception &e) {
        return fail(QString::fromUtf8(e.what()));
    }
    QString why;
    if (!writeExportFile(path, QByteArray::fromStdString(text), &why))
        return fail(why);
    return true;
}

void PruningPage::exportChartDialog()
{
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    QString selected;
    const QString path
        = QFileDialog::getSaveFileName(this, tr("Export Chart"), dir + QStringLiteral("/pruning-trace.png"),
            tr("PNG image (*.png);;SVG vector image (*.svg);;PDF document (*.pdf)"), &selected);
    if (path.isEmpty())
        return;
    QString target = path;
    if (QFileInfo(path).suffix().isEmpty())
        target += selected.contains(QLatin1String("svg")) ? QStringLiteral(".svg")
            : selected.contains(QLatin1String("pdf"))     ? QStringLiteral(".pdf")
                                                          : QStringLiteral(".png");
    QString error;
    if (exportChart(target, &error))
        m_controls->setStatus(tr("Chart saved to %1").arg(target));
    else
        m_banner->showMessage(MessageBanner::Kind::Error, error);
}

void PruningPage::exportTraceDialog(const QString &suffix)
{
    const QList<int> rows = selectedRuns();
    if (rows.isEmpty()) {
        m_banner->showMessage(MessageBanner::Kind::Info, tr("Select a run in the list to export its trace."));
        return;
    }
    const RunSummary &run = m_runList->run(rows.front());
    const QString name = (run.id.isEmpty() ? run.method : run.id) + QLatin1Char('.') + suffix;
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    const QString path = QFileDialog::getSaveFileName(this, tr("Export Trace"), dir + QLatin1Char('/') + name,
        suffix == QLatin1String("csv") ? tr("CSV (*.csv)") : tr("JSON (*.json)"));
    if (path.isEmpty())
        return;
    QString error;
    if (exportTrace(rows.front(), path, &error))
        m_controls->setStatus(tr("Trace saved to %1").arg(path));
    else
        m_banner->showMessage(MessageBanner::Kind::Error, error);
}

} // namespace blockscope::views
