// Compute PPA: the dense model and every step of the selected run, measured on this machine and
// modelled (this machine's calibrated roofline and the devices asked for), as one job through the
// runner. Points reach the page as they are done (queued to the UI thread, newest job only); the
// job writes them into the experiment file at the end, and the page reads the file back.
#include "ppapage.h"

#include "charts/ppachart.h"
#include "jobs/ppajob.h"
#include "messagebanner.h"
#include "ppapointmodel.h"
#include "pparunlistmodel.h"

#include <QComboBox>
#include <QFileInfo>
#include <QPointer>
#include <QPushButton>
#include <QSpinBox>

namespace blockscope::views {

namespace {
const QString ppaTag = QStringLiteral("ppa");
}

bool PpaPage::isComputing() const
{
    return m_job != 0 && m_runner->isRunning(m_job);
}

void PpaPage::computePpa()
{
    if (isComputing() || m_current < 0 || m_sources[static_cast<std::size_t>(m_current)].sweep)
        return;
    const Source &source = m_sources[static_cast<std::size_t>(m_current)];
    // The run's own checkpoint when it is still there, else the model open in the window.
    QString model = QString::fromStdString(source.info.modelPath);
    if (model.isEmpty() || !QFileInfo::exists(model))
        model = m_modelPath;
    if (model.isEmpty() || !QFileInfo::exists(model)) {
        m_banner->showMessage(MessageBanner::Kind::Error,
            tr("The checkpoint of %1 (%2) is not there: open it (File > Open) and compute again")
                .arg(source.id, QString::fromStdString(source.info.modelPath)));
        return;
    }
    m_banner->hide();

    ppa::PpaRequest request;
    request.modelPath = model.toStdString();
    request.experimentPath = m_path.toStdString();
    request.runId = source.id.toStdString();
    request.device = m_computeDevice->currentText().toStdString();
    request.threads = m_threads->value();
    request.workload.batch = m_batch->value();
    request.workload.seq = m_seq->value();
    for (const QString &d : m_predictFor)
        request.predictFor.push_back(d.toStdString());

    m_liveRun = m_current;
    m_livePoints.clear();
    request.onPoint
        = m_runner->partials<ppa::PpaPoint>(ppaTag, this, [this](const ppa::PpaPoint &point) { livePoint(point); });
    m_job = m_runner->run<ppa::PpaReport>(
        ppaTag, tr("PPA: %1 on %2").arg(source.id, QFileInfo(model).fileName()),
        [request](JobContext &job) { return ppa::runPpaJob(request, job); }, this,
        [this](ppa::PpaReport) { finishCompute(QStringLiteral("complete"), QString()); },
        [this](const QString &message) { finishCompute(QStringLiteral("failed"), message); }, Lane::Engine);
    setStatus(tr("Computing PPA for %1: measuring on %2, batch %3 \u00d7 %4 tokens\u2026")
                  .arg(source.id, m_computeDevice->currentText())
                  .arg(m_batch->value())
                  .arg(m_seq->value()));
    updateButtons();
}

void PpaPage::cancelCompute()
{
    if (isComputing()) {
        m_runner->cancel(m_job);
        setStatus(tr("Cancelling\u2026"));
    }
}

void PpaPage::livePoint(const ppa::PpaPoint &point)
{
    if (m_liveRun < 0 || m_liveRun >= runCount())
        return;
    m_livePoints.push_back(point);
    Source &s = m_sources[static_cast<std::size_t>(m_liveRun)];
    s.points->setPoints(m_livePoints);
    PpaRunListModel::Entry e = m_runList->entry(m_liveRun);
    e.points = static_cast<int>(m_livePoints.size());
    if (point.measured)
        e.measuredOn = QString::fromStdString(point.measured->device);
    m_runList->updateEntry(m_liveRun, e);
    if (s.chartRun < 0 && e.shown)
        rebuildChart();
    else
        refreshDevices();
    if (m_liveRun == m_current) {
        resizePointColumns();
        selectPoint(s.points->rowCount() - 1);
    }
    setStatus(tr("Computing PPA for %1: %n point(s) done", nullptr, e.points).arg(s.id));
}

void PpaPage::finishCompute(const QString &status, const QString &message)
{
    if (m_job == 0)
        return;
    m_job = 0;
    m_liveRun = -1;
    if (status == QLatin1String("failed")) {
        m_banner->showMessage(MessageBanner::Kind::Error, tr("PPA failed: %1").arg(message));
        setStatus(tr("PPA failed"));
    } else if (status == QLatin1String("cancelled")) {
        m_statusAfterLoad = tr("PPA cancelled: the file keeps the points it had");
        setStatus(m_statusAfterLoad);
    } else {
        m_statusAfterLoad = tr("PPA written to %1").arg(QFileInfo(m_path).fileName());
        setStatus(m_statusAfterLoad);
    }
    updateButtons();
    // The file is the truth: what the job wrote (or, after a cancel or failure, what was there).
    reload();
    Q_EMIT computeEnded(status);
}

} // namespace blockscope::views
