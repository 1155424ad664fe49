#include "modelcontroller.h"

#include "jobs/jobcontext.h"
#include "model/modelhandle.h"
#include "model/tensorstats.h"

#include <QFileInfo>
#include <QTimer>

namespace blockscope::views {

namespace {
const QString openTag = QStringLiteral("open");
const QString statsTag = QStringLiteral("stats");
} // namespace

ModelController::ModelController(JobRunner *runner, QObject *parent)
    : QObject(parent)
    , m_runner(runner)
    , m_statsTimer(new QTimer(this))
{
    // Statistics fill in while the job runs; the cache is thread-safe, readers take a copy.
    m_statsTimer->setInterval(400);
    connect(m_statsTimer, &QTimer::timeout, this, &ModelController::announceStats);
    connect(m_runner, &JobRunner::jobFinished, this, [this](JobId id, JobOutcome, const QString &) {
        if (id != m_statsJob)
            return;
        m_statsJob = 0;
        m_statsTimer->stop();
        announceStats();
        Q_EMIT statsDone();
    });
}

void ModelController::open(const QString &path)
{
    const std::string p = path.toStdString();
    m_runner->run<std::shared_ptr<const ModelHandle>>(
        openTag, tr("Open %1").arg(QFileInfo(path).fileName()),
        [p](JobContext &job) {
            job.stage("reading metadata");
            return ModelHandle::open(p);
        },
        this,
        [this, path](std::shared_ptr<const ModelHandle> model) {
            m_runner->cancelTag(statsTag);
            m_model = std::move(model);
            m_path = path;
            m_stats = m_caches.cacheFor(*m_model);
            m_statsAnnounced = m_stats->size();
            Q_EMIT opened(path);
            computeStats();
        },
        [this, path](const QString &message) { Q_EMIT openFailed(path, message); });
}

void ModelController::computeStats()
{
    if (!m_model)
        return;
    auto model = m_model;
    auto cache = m_stats;
    m_statsJob = m_runner->start(
        statsTag, tr("Statistics of %1").arg(QFileInfo(QString::fromStdString(model->path())).fileName()),
        [model, cache](JobContext &job) { computeAllTensorStats(*model, *cache, job); }, this, [] {},
        [this](const QString &message) { Q_EMIT statsFailed(message); });
    m_statsTimer->start();
}

bool ModelController::statsRunning() const
{
    return m_statsJob != 0 && m_runner->isRunning(m_statsJob);
}

void ModelController::announceStats()
{
    if (!m_stats || m_stats->size() == m_statsAnnounced)
        return;
    m_statsAnnounced = m_stats->size();
    Q_EMIT statsChanged();
}

} // namespace blockscope::views
