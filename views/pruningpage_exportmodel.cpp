// File > Export Model: a run's configuration written as a Hugging Face folder that transformers
// loads, through the same core path as `blockscope-cli export`.
#include "pruningpage.h"

#include "jobrunner.h"
#include "jobs/jobcontext.h"
#include "messagebanner.h"
#include "model/modelhandle.h"
#include "pruneform.h"
#include "report/report.h"
#include "store/experimentcheck.h"
#include "store/experimentfile.h"
#include "store/modelexport.h"
#include "tracetablemodel.h"
#include "whatifcontroller.h"

#include <QFileInfo>

namespace blockscope::views {

namespace {
const QString exportModelTag = QStringLiteral("export-model");
const QString exportReportTag = QStringLiteral("export-report");
} // namespace

QString PruningPage::reportSource() const
{
    const QList<int> rows = selectedRuns();
    if (!rows.isEmpty() && !m_runs[static_cast<std::size_t>(rows.front())].file.isEmpty())
        return m_runs[static_cast<std::size_t>(rows.front())].file;
    const QString form = m_form->experimentPath();
    return QFileInfo::exists(form) ? form : QString();
}

bool PruningPage::exportReport(const QString &out, QString *error)
{
    const QString source = reportSource();
    if (source.isEmpty()) {
        if (error)
            *error = tr("Open an experiment or run a search first: the report shows an experiment file");
        return false;
    }
    const std::string file = source.toStdString();
    m_controls->setStatus(tr("Writing a report of %1\u2026").arg(QFileInfo(source).fileName()));
    m_runner->run<std::shared_ptr<const Experiment>>(
        exportReportTag, tr("Report %1").arg(QFileInfo(out).fileName()),
        [file](JobContext &job) {
            job.stage("reading the experiment");
            return std::make_shared<const Experiment>(readExperimentChecked(file));
        },
        this,
        [this, file, out](std::shared_ptr<const Experiment> experiment) {
            // Drawn here: the PDF writer and its fonts belong to the GUI thread.
            try {
                report::writeReport(file, *experiment, {}, out.toStdString());
            } catch (const std::exception &e) {
                const QString message = QString::fromUtf8(e.what());
                m_banner->showMessage(MessageBanner::Kind::Error, tr("Could not write the report\n%1").arg(message));
                m_controls->setStatus(tr("Report failed"));
                Q_EMIT reportExportFailed(out, message);
                return;
            }
            m_controls->setStatus(tr("Wrote the report %1").arg(out));
            Q_EMIT reportExported(out);
        },
        [this, out](const QString &message) {
            m_banner->showMessage(MessageBanner::Kind::Error, tr("Could not write the report\n%1").arg(message));
            m_controls->setStatus(tr("Report failed"));
            Q_EMIT reportExportFailed(out, message);
        });
    return true;
}

QString PruningPage::exportModelDescription() const
{
    const QList<int> rows = selectedRuns();
    if (rows.isEmpty())
        return {};
    const PageRun &r = m_runs[static_cast<std::size_t>(rows.front())];
    const UnitMask &whatIf = m_whatIf->mask();
    if (whatIf.skippedUnits() > 0 && whatIf.layers() == r.info.layers)
        return tr("%1, what-if: %2").arg(QString::fromStdString(r.info.id), QString::fromStdString(whatIf.describe()));
    const auto &steps = r.trace->steps();
    if (steps.empty())
        return {};
    return tr("%1 (%2), step %3: %4")
        .arg(QString::fromStdString(r.info.id), QString::fromStdString(pruneMethodName(r.info.options.method)))
        .arg(steps.back().index)
        .arg(QString::fromStdString(steps.back().mask.describe()));
}

bool PruningPage::exportModel(const QString &folder, bool force, QString *error)
{
    const auto fail = [&](const QString &message) {
        if (error)
            *error = message;
        return false;
    };
    const QList<int> rows = selectedRuns();
    if (rows.isEmpty())
        return fail(tr("Select a run to export"));
    const PageRun &r = m_runs[static_cast<std::size_t>(rows.front())];
    if (r.file.isEmpty())
        return fail(tr("The run is not saved in an experiment file"));
    if (r.live)
        return fail(tr("The run is still searching: export it when it ends, or cancel it"));
    if (m_runner->isTagRunning(exportModelTag))
        return fail(tr("An export is already running"));
    ExportPick pick;
    pick.runId = r.info.id;
    const UnitMask &whatIf = m_whatIf->mask();
    if (whatIf.skippedUnits() > 0 && whatIf.layers() == r.info.layers)
        pick.whatIf = whatIf;
    const std::string file = r.file.toStdString(), out = folder.toStdString();
    m_controls->setStatus(tr("Exporting %1 into %2\u2026").arg(exportModelDescription(), folder));
    m_runner->run<std::shared_ptr<const HfExportResult>>(
        exportModelTag, tr("Export model to %1").arg(QFileInfo(folder).fileName()),
        [file, out, pick, force](JobContext &job) {
            job.stage("reading the experiment");
            const Experiment e = readExperimentChecked(file);
            const ExportSelection sel = selectForExport(file, e, pick);
            job.checkpoint();
            job.stage("writing the model");
            HfExportOptions o;
            o.force = force;
            o.recordJson = sel.recordJson;
            return std::make_shared<const HfExportResult>(
                exportHuggingFace(ModelHandle::open(sel.modelPath), sel.mask, out, o));
        },
        this,
        [this, folder](std::shared_ptr<const HfExportResult> r) {
            const QString summary = tr("Exported into %1: %2 layers, %3 projections zeroed, %4 MB of weights")
                                        .arg(folder)
                                        .arg(r->keptBlocks)
                                        .arg(r->zeroed.size())
                                        .arg(static_cast<double>(r->weightBytes) / 1e6, 0, 'f', 1);
            QStringList lines{summary};
            for (const std::string &n : r->notes)
                lines << QString::fromStdString(n);
            m_banner->showMessage(MessageBanner::Kind::Info, lines.join(QLatin1Char('\n')));
            m_controls->setStatus(summary);
            Q_EMIT modelExported(folder, summary);
        },
        [this, folder](const QString &message) {
            m_banner->showMessage(
                MessageBanner::Kind::Error, tr("Could not export the model into %1\n%2").arg(folder, message));
            m_controls->setStatus(tr("Export failed"));
            Q_EMIT modelExportFailed(folder, message);
        });
    return true;
}

} // namespace blockscope::views
