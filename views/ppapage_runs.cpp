// Experiment files on the PPA page: read in the background (newest request wins), then one row per
// run and per sweep with their PPA points, the shown ones on the chart.
#include "ppapage.h"

#include "charts/ppachart.h"
#include "jobs/jobcontext.h"
#include "messagebanner.h"
#include "ppapointmodel.h"
#include "pparunlistmodel.h"
#include "runsummary.h"
#include "store/experimentcheck.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QTableView>

#include <cmath>
#include <utility>

namespace blockscope::views {

namespace {

QString measuredOn(const std::vector<ppa::PpaPoint> &points)
{
    for (const ppa::PpaPoint &p : points)
        if (p.measured)
            return QString::fromStdString(p.measured->device);
    return {};
}
} // namespace

void PpaPage::openExperimentDialog()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Experiment"),
        m_path.isEmpty() ? QString() : QFileInfo(m_path).path(), tr("Experiment files (*.h5);;All files (*)"));
    if (!path.isEmpty())
        openExperiment(path);
}

void PpaPage::reload()
{
    if (!m_path.isEmpty())
        m_document->reload(m_path);
}

void PpaPage::openExperiment(const QString &path)
{
    setStatus(tr("Reading %1\u2026").arg(QFileInfo(path).fileName()));
    m_document->open(path);
}

void PpaPage::setDocument(ExperimentDocument *document)
{
    if (m_document)
        disconnect(m_document, nullptr, this, nullptr);
    m_document = document;
    connect(m_document, &ExperimentDocument::loaded, this, [this](const QString &path) {
        // The run shown stays shown when the same file is read again.
        showExperiment(path, *m_document->experiment(), path == m_path ? runId(m_current) : QString());
        m_banner->hide();
        Q_EMIT experimentLoaded(path, runCount());
    });
    connect(m_document, &ExperimentDocument::failed, this,
        [this](const QString &path, const QString &message, ExperimentDocument::Read how) {
            m_banner->showMessage(MessageBanner::Kind::Error,
                (how == ExperimentDocument::Read::Opened ? tr("Could not open the experiment %1\n%2")
                                                         : tr("Could not read %1 again\n%2"))
                    .arg(QFileInfo(path).fileName(), message));
            m_statusAfterLoad.clear();
            setStatus(tr("Could not open %1").arg(QFileInfo(path).fileName()));
            Q_EMIT experimentFailed(path, message);
        });
}

void PpaPage::clearSources()
{
    QItemSelectionModel *old = m_pointTable->selectionModel();
    m_pointTable->setModel(nullptr);
    delete old;
    m_chart->clearRuns();
    for (Source &s : m_sources)
        delete s.points;
    m_sources.clear();
    m_current = -1;
}

void PpaPage::showExperiment(const QString &path, const Experiment &experiment, const QString &keepRunId)
{
    // The runs shown before keep their check boxes when the same file is read again.
    std::vector<std::pair<QString, bool>> shownBefore;
    if (path == m_path)
        for (int i = 0; i < m_runList->entryCount(); ++i)
            shownBefore.emplace_back(m_runList->entry(i).id, m_runList->entry(i).shown);
    clearSources();
    m_path = path;
    m_file->setText(tr("Experiment: <b>%1</b>").arg(QFileInfo(path).fileName().toHtmlEscaped()));
    m_file->setToolTip(path);

    std::vector<PpaRunListModel::Entry> entries;
    auto add = [&](Source s, std::vector<ppa::PpaPoint> points) {
        PpaRunListModel::Entry e;
        e.id = s.id;
        e.name = s.name;
        e.sweep = s.sweep;
        e.points = static_cast<int>(points.size());
        e.measuredOn = measuredOn(points);
        for (const auto &[id, shown] : shownBefore)
            if (id == s.id)
                e.shown = shown;
        s.points = new PpaPointModel(this);
        s.points->setPoints(std::move(points));
        m_sources.push_back(std::move(s));
        entries.push_back(e);
    };
    for (const ExperimentRun &run : experiment.runs) {
        Source s;
        s.id = QString::fromStdString(run.info.id);
        s.name = RunSummary::of(run.info, run.steps).seriesName();
        s.info = run.info;
        std::vector<ppa::PpaPoint> points = run.ppa;
        for (ppa::PpaPoint &p : points)
            for (const TraceStep &step : run.steps)
                if (p.step >= 0 && step.index == p.step)
                    p.searchScore = step.chosenScore;
        add(std::move(s), std::move(points));
    }
    for (const SweepRecord &sweep : experiment.sweeps) {
        Source s;
        s.id = QString::fromStdString(sweep.id);
        s.sweep = true;
        s.name = QStringLiteral("%1 %2").arg(s.id, QString::fromStdString(sweep.masks));
        std::vector<ppa::PpaPoint> points;
        for (const SweepPoint &sp : sweep.points) {
            ppa::PpaPoint p = sp.ppa;
            // A sweep keeps its quality in its own columns; its PPA points may leave it out.
            if (!std::isfinite(p.perplexity))
                p.perplexity = sp.perplexity;
            if (p.label.empty())
                p.label = sp.rule;
            if (p.protocol.empty())
                p.protocol = sweep.protocol;
            points.push_back(std::move(p));
        }
        add(std::move(s), std::move(points));
    }
    m_runList->setEntries(std::move(entries));
    rebuildChart();

    int withPoints = 0;
    for (const Source &s : m_sources)
        withPoints += s.points->rowCount() > 0 ? 1 : 0;
    setStatus(withPoints > 0
            ? tr("%1: %n run(s) or sweep(s), %2 with PPA points", nullptr, runCount())
                  .arg(QFileInfo(path).fileName())
                  .arg(withPoints)
            : tr("%1 has no PPA points yet: select a run and press Compute PPA").arg(QFileInfo(path).fileName()));
    if (!m_statusAfterLoad.isEmpty())
        setStatus(std::exchange(m_statusAfterLoad, QString()));
    // The run asked for, else the last one with points, else the last run.
    int row = rowForId(keepRunId);
    for (int i = runCount() - 1; i >= 0 && row < 0; --i)
        if (m_sources[static_cast<std::size_t>(i)].points->rowCount() > 0)
            row = i;
    if (row < 0)
        row = runCount() - 1;
    selectRun(row);
    updateButtons();
}

} // namespace blockscope::views
