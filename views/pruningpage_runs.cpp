// The runs on the page: bookkeeping (rows, trace models, chart lines) and experiment files read
// in the background and merged with what the page already shows.
#include "pruningpage.h"

#include "charts/tracechart.h"
#include "jobs/jobcontext.h"
#include "layermap.h"
#include "messagebanner.h"
#include "pruneform.h"
#include "runcomparemodel.h"
#include "runlistmodel.h"
#include "store/experimentcheck.h"
#include "tracetablemodel.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QStackedWidget>
#include <QTableView>

#include <set>

namespace blockscope::views {

namespace {
}

int PruningPage::runCount() const
{
    return static_cast<int>(m_runs.size());
}

int PruningPage::rowForKey(int key) const
{
    for (std::size_t i = 0; i < m_runs.size(); ++i)
        if (m_runs[i].key == key)
            return static_cast<int>(i);
    return -1;
}

int PruningPage::rowForRunId(const QString &id) const
{
    for (std::size_t i = 0; i < m_runs.size(); ++i)
        if (QString::fromStdString(m_runs[i].info.id) == id)
            return static_cast<int>(i);
    return -1;
}

TraceTableModel *PruningPage::traceModel(int row) const
{
    return row >= 0 && row < runCount() ? m_runs[static_cast<std::size_t>(row)].trace : nullptr;
}

int PruningPage::chartRun(int row) const
{
    return row >= 0 && row < runCount() ? m_runs[static_cast<std::size_t>(row)].chartRun : -1;
}

ExperimentRun PruningPage::runSnapshot(int row) const
{
    if (row < 0 || row >= runCount())
        return {};
    const PageRun &r = m_runs[static_cast<std::size_t>(row)];
    return {r.info, r.trace->steps()};
}

int PruningPage::addRun(RunInfo info, std::vector<TraceStep> steps, const QString &file, bool live)
{
    PageRun r;
    r.key = m_nextKey++;
    r.file = file;
    r.live = live;
    r.trace = new TraceTableModel(this);
    r.trace->setSteps(std::move(steps), info.densePerplexity);
    r.info = std::move(info);
    const RunSummary summary = RunSummary::of(r.info, r.trace->steps());
    r.chartRun = m_chart->addRun(r.trace, summary.seriesName(), summary.method == QLatin1String("evopress"));
    m_runs.push_back(r);
    return m_runList->appendRun(summary);
}

void PruningPage::removeRunAt(int row)
{
    if (row < 0 || row >= runCount())
        return;
    PageRun r = m_runs[static_cast<std::size_t>(row)];
    m_chart->removeRun(r.chartRun);
    if (m_stepTable->model() == r.trace)
        m_stepTable->setModel(nullptr);
    m_runs.erase(m_runs.begin() + row);
    m_runList->removeRun(row);
    delete r.trace;
}

void PruningPage::refreshRow(int row)
{
    const PageRun &r = m_runs[static_cast<std::size_t>(row)];
    RunSummary summary = RunSummary::of(r.info, r.trace->steps());
    m_chart->setRunName(r.chartRun, summary.seriesName());
    m_runList->updateRun(row, std::move(summary));
}

void PruningPage::openExperimentDialog()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Experiment"),
        QFileInfo(m_form->experimentPath()).path(), tr("Experiment files (*.h5);;All files (*)"));
    if (!path.isEmpty())
        openExperiment(path);
}

void PruningPage::openExperiment(const QString &path)
{
    m_controls->setStatus(tr("Reading %1\u2026").arg(QFileInfo(path).fileName()));
    m_document->open(path);
}

void PruningPage::setDocument(ExperimentDocument *document)
{
    if (m_document)
        disconnect(m_document, nullptr, this, nullptr);
    m_document = document;
    connect(m_document, &ExperimentDocument::loaded, this, &PruningPage::documentLoaded);
    connect(m_document, &ExperimentDocument::failed, this, &PruningPage::documentFailed);
}

void PruningPage::documentLoaded(const QString &path, ExperimentDocument::Read how)
{
    const std::shared_ptr<const Experiment> experiment = m_document->experiment();
    if (how == ExperimentDocument::Read::Reloaded) {
        mergeExperiment(path, *experiment);
        return;
    }
    // Runs of another experiment make way; a search in progress stays.
    for (int row = runCount() - 1; row >= 0; --row) {
        const PageRun &r = m_runs[static_cast<std::size_t>(row)];
        if (!r.live && r.file != path)
            removeRunAt(row);
    }
    mergeExperiment(path, *experiment);
    if (!isRunning())
        m_form->setExperimentPath(path);
    m_banner->hide();
    const int n = static_cast<int>(experiment->runs.size());
    m_controls->setStatus(tr("%1: %n run(s)", nullptr, n).arg(QFileInfo(path).fileName()));
    if (selectedRuns().isEmpty() && runCount() > 0)
        selectRuns({runCount() - 1});
    Q_EMIT experimentLoaded(path, n);
}

void PruningPage::documentFailed(const QString &path, const QString &message, ExperimentDocument::Read how)
{
    if (how == ExperimentDocument::Read::Reloaded) {
        m_banner->showMessage(MessageBanner::Kind::Warning,
            tr("The run is on screen but reading it back from %1 failed: %2").arg(path, message));
        return;
    }
    m_banner->showMessage(MessageBanner::Kind::Error,
        tr("Could not open the experiment %1\n%2").arg(QFileInfo(path).fileName(), message));
    m_controls->setStatus(tr("Could not open %1").arg(QFileInfo(path).fileName()));
    Q_EMIT experimentFailed(path, message);
}

void PruningPage::reloadAfterRun(const QString &path)
{
    m_document->reload(path);
}

void PruningPage::mergeExperiment(const QString &path, const Experiment &experiment)
{
    std::set<std::string> shown;
    for (const PageRun &r : m_runs)
        if (r.file == path && !r.info.id.empty())
            shown.insert(r.info.id);
    // A run cancelled on this page has no id yet: it is the run of the file nobody shows, the
    // newest such one.
    int unnamed = -1;
    for (int row = runCount() - 1; row >= 0 && unnamed < 0; --row) {
        const PageRun &r = m_runs[static_cast<std::size_t>(row)];
        if (!r.live && r.file == path && r.info.id.empty())
            unnamed = row;
    }
    if (unnamed >= 0)
        for (auto it = experiment.runs.rbegin(); it != experiment.runs.rend(); ++it)
            if (!shown.count(it->info.id)) {
                m_runs[static_cast<std::size_t>(unnamed)].info.id = it->info.id;
                break;
            }

    const QList<int> selected = selectedRuns();
    for (const ExperimentRun &run : experiment.runs) {
        const int row = rowForRunId(QString::fromStdString(run.info.id));
        if (row < 0 || m_runs[static_cast<std::size_t>(row)].file != path) {
            addRun(run.info, run.steps, path, false);
            continue;
        }
        PageRun &r = m_runs[static_cast<std::size_t>(row)];
        if (r.live)
            continue;
        r.info = run.info;
        // The file is the truth once the search is over; a trace that already matches is kept
        // as it is, so the chart does not flicker.
        if (run.steps.size() != r.trace->steps().size())
            r.trace->setSteps(run.steps, run.info.densePerplexity);
        else
            r.trace->setDensePerplexity(run.info.densePerplexity);
        refreshRow(row);
    }
    if (!selected.isEmpty())
        updateSelectionView();
}

} // namespace blockscope::views
