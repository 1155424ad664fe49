// Running a search: the request from the form, one job per search, each trace step queued to the
// UI thread as it completes (the chart and layer map grow live), and the end: complete, cancelled
// with the steps so far kept, or failed with the engine's message.
#include "pruningpage.h"

#include "jobs/prunejob.h"
#include "layermap.h"
#include "messagebanner.h"
#include "processprune.h"
#include "pruneform.h"
#include "runlistmodel.h"
#include "tracetablemodel.h"

#include <QDir>
#include <QFileInfo>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>

#include <cmath>

namespace blockscope::views {

namespace {
const QString pruneTag = QStringLiteral("prune");
}

bool PruningPage::isRunning() const
{
    return m_controls->isRunning();
}

void PruningPage::run()
{
    if (isRunning())
        return;
    const QString missing = m_form->missing(m_modelPath);
    if (!missing.isEmpty()) {
        m_banner->showMessage(MessageBanner::Kind::Error, missing);
        m_controls->setStatus(missing);
        return;
    }
    m_banner->hide();
    PruneRequest request = m_form->request(m_modelPath);
    const QString file = QString::fromStdString(request.experimentPath);
    if (!file.isEmpty() && !QDir().mkpath(QFileInfo(file).absolutePath())) {
        m_banner->showMessage(MessageBanner::Kind::Error, tr("Cannot create the folder of %1").arg(file));
        return;
    }

    RunInfo info;
    info.label = request.label;
    info.options = request.options;
    info.layers = m_layers;
    info.modelPath = request.modelPath;
    info.calibrationPath = request.calibrationPath;
    info.status = "running";
    const int row = addRun(std::move(info), {}, file, true);
    const int key = m_runs[static_cast<std::size_t>(row)].key;
    m_liveKey = key;
    selectRuns({row});

    // Steps and candidates reach the page through the runner while this run is the latest.
    const QString method = QString::fromStdString(pruneMethodName(request.options.method));
    request.onRunStarted = m_runner->partials<RunInfo>(
        pruneTag, this, [this, key](const RunInfo &started) { runAnnounced(key, started); });
    request.onCandidate = m_runner->partials<CandidateRecord>(
        pruneTag, this, [this, key](const CandidateRecord &c) { candidateScored(key, c); });
    const auto onStep
        = m_runner->partials<TraceStep>(pruneTag, this, [this, key](const TraceStep &step) { appendStep(key, step); });
    // More than one process: ranks of blockscope-cli beside the app share the candidates.
    const int processes = m_form->processes();
    const QString cli = m_cli.isEmpty() ? cliBesideApp() : m_cli;
    const QString title = processes > 1
        ? tr("Pruning: %1 on %2, %3 processes").arg(method, QFileInfo(m_modelPath).fileName()).arg(processes)
        : tr("Pruning: %1 on %2").arg(method, QFileInfo(m_modelPath).fileName());
    const JobId job = m_runner->run<PruneJobReport>(
        pruneTag, title,
        [request, onStep, processes, cli](JobContext &job) {
            return processes > 1 ? runPruneInProcesses(request, processes, job, onStep, cli)
                                 : runPruneJob(request, job, onStep);
        },
        this, [this, key](PruneJobReport report) { finishRun(key, report); },
        [this, key](const QString &message) { endRun(key, QStringLiteral("failed"), message); }, Lane::Engine);
    m_controls->follow(job);
    m_runStage.clear();
    m_controls->setStatus(tr("Running %1\u2026").arg(method));
    updateButtons();
    Q_EMIT runStarted(row);
}

void PruningPage::cancel()
{
    m_controls->cancel();
}

void PruningPage::appendStep(int key, const TraceStep &step)
{
    const int row = rowForKey(key);
    if (row < 0)
        return;
    PageRun &r = m_runs[static_cast<std::size_t>(row)];
    if (step.mask.layers() > 0)
        r.info.layers = step.mask.layers();
    if (step.index >= r.stepInFlight) {
        r.stepInFlight = -1;
        r.candidatesInFlight.clear();
    }
    r.trace->appendStep(step);
    refreshRow(row);
    if (selectedRuns() == QList<int>{row})
        showLayerMapFor(row);
    const int steps = static_cast<int>(r.trace->steps().size());
    if (key == m_liveKey && isRunning()) {
        QString text = tr("Step %1: removed %2").arg(step.index + 1).arg(TraceTableModel::unitsText(step.chosen));
        if (!std::isnan(step.perplexity))
            text += tr(" \u00b7 PPL %1").arg(step.perplexity, 0, 'g', 4);
        m_controls->setStatus(text);
    }
    Q_EMIT stepShown(row, steps);
}

void PruningPage::candidateScored(int key, const CandidateRecord &c)
{
    const int row = rowForKey(key);
    if (row < 0)
        return;
    PageRun &r = m_runs[static_cast<std::size_t>(row)];
    if (!r.live || c.step < static_cast<int>(r.trace->steps().size()))
        return; // late: its step is shown whole already
    Unit unit;
    try {
        unit = unitFromLabel(c.what);
    } catch (const std::invalid_argument &) {
        return; // an EvoPress genome: no cell of its own
    }
    if (c.step != r.stepInFlight) {
        r.stepInFlight = c.step;
        r.candidatesInFlight.clear();
    }
    r.candidatesInFlight.push_back({unit, c.score, c.index, c.lowerBound});
    if (selectedRuns() == QList<int>{row})
        showLayerMapFor(row);
    if (key == m_liveKey && isRunning())
        m_controls->setStatus(
            tr("Step %1: %2 scored, the last %3 (%4)")
                .arg(c.step + 1)
                .arg(r.candidatesInFlight.size())
                .arg(QString::fromStdString(c.what))
                .arg((c.lowerBound ? QStringLiteral("\u2265 ") : QString()) + QString::number(c.score, 'g', 6)));
    Q_EMIT candidateShown(row, c.step, static_cast<int>(r.candidatesInFlight.size()));
}

void PruningPage::runAnnounced(int key, const RunInfo &info)
{
    const int row = rowForKey(key);
    if (row < 0)
        return;
    PageRun &r = m_runs[static_cast<std::size_t>(row)];
    r.info = info;
    r.trace->setDensePerplexity(info.densePerplexity);
    refreshRow(row);
}

void PruningPage::finishRun(int key, const PruneJobReport &report)
{
    const int row = rowForKey(key);
    if (row < 0)
        return;
    PageRun &r = m_runs[static_cast<std::size_t>(row)];
    r.info.id = report.runId;
    r.info.layers = report.result.layers > 0 ? report.result.layers : r.info.layers;
    r.info.densePerplexity = report.result.densePerplexity;
    r.info.calibrationProtocol = report.calibration;
    r.info.evaluationProtocol = report.evaluation;
    // A resumed run streams only its new steps; the report has them all.
    if (report.result.steps.size() != r.trace->steps().size())
        r.trace->setSteps(report.result.steps, report.result.densePerplexity);
    else
        r.trace->setDensePerplexity(report.result.densePerplexity);
    QString where = r.file.isEmpty() ? tr("not saved")
                                     : tr("saved in %1 as %2").arg(r.file, QString::fromStdString(report.runId));
    if (report.resumedSteps > 0 || report.resumedCandidates > 0)
        where += tr(" (resumed: %1 steps and %2 candidate scores reused)")
                     .arg(report.resumedSteps)
                     .arg(report.resumedCandidates);
    const QString removed = TraceTableModel::unitsText(report.result.removalOrder);
    m_controls->setStatus(tr("%1 complete: removed %2 in %3 s; %4")
                              .arg(m_runList->run(row).method, removed.isEmpty() ? tr("nothing") : removed)
                              .arg(report.seconds, 0, 'f', 1)
                              .arg(where));
    endRun(key, QStringLiteral("complete"), QString());
}

void PruningPage::endRun(int key, const QString &status, const QString &message)
{
    const int row = rowForKey(key);
    if (key == m_liveKey) {
        m_liveKey = 0;
        m_controls->release();
    }
    updateButtons();
    if (row < 0)
        return;
    PageRun &r = m_runs[static_cast<std::size_t>(row)];
    r.live = false;
    r.stepInFlight = -1;
    r.candidatesInFlight.clear();
    r.info.status = status.toStdString();
    const int steps = static_cast<int>(r.trace->steps().size());
    if (status == QLatin1String("cancelled")) {
        m_controls->setStatus(r.file.isEmpty() ? tr("Cancelled after %1 steps (not saved)").arg(steps)
                                               : tr("Cancelled after %1 steps; saved in %2").arg(steps).arg(r.file));
    } else if (status == QLatin1String("failed")) {
        m_banner->showMessage(MessageBanner::Kind::Error, tr("The search failed: %1").arg(message));
        m_controls->setStatus(tr("Failed after %1 steps: %2").arg(steps).arg(message));
    }
    refreshRow(row);
    if (selectedRuns().contains(row))
        updateSelectionView();
    Q_EMIT runEnded(row, status);
    // The file has what the engine recorded (protocols, hashes, the run id of a cancelled run).
    if (!r.file.isEmpty() && status != QLatin1String("failed"))
        reloadAfterRun(r.file);
}

} // namespace blockscope::views
