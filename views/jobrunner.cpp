#include "jobrunner.h"

#include "jobs/jobcontext.h"
#include "log/logging.h"

#include <stop_token>
#include <thread>

namespace blockscope::views {

struct JobRunner::Job
{
    QString tag;
    QString title;
    QPointer<QObject> receiver;
    std::function<void()> onDone;
    std::function<void(const QString &)> onError;
    bool superseded = false;
    std::jthread thread; // last: destroyed (stopped and joined) before the callbacks it may use
};

JobRunner::JobRunner(QObject *parent)
    : QObject(parent)
{
    // Lets QSignalSpy and queued connections carry the outcome.
    qRegisterMetaType<JobOutcome>();
    qRegisterMetaType<JobId>("blockscope::views::JobId");
}

JobRunner::~JobRunner()
{
    // Request every stop first so the jobs wind down in parallel, then join them one by one.
    for (auto &[id, job] : m_jobs)
        job->thread.request_stop();
    m_jobs.clear();
}

JobId JobRunner::start(const QString &tag, const QString &title, Work work, QObject *receiver,
    std::function<void()> onDone, std::function<void(const QString &)> onError)
{
    if (auto it = m_latestByTag.find(tag); it != m_latestByTag.end()) {
        if (auto old = m_jobs.find(it->second); old != m_jobs.end()) {
            old->second->superseded = true;
            old->second->thread.request_stop();
        }
    }
    const JobId id = m_nextId++;
    auto job = std::make_unique<Job>();
    job->tag = tag;
    job->title = title;
    job->receiver = receiver;
    job->onDone = std::move(onDone);
    job->onError = std::move(onError);
    m_latestByTag[tag] = id;

    // The worker posts to `this` only; the runner outlives its threads (its destructor joins them)
    // and Qt drops events posted to an object that is being destroyed.
    job->thread = std::jthread([this, id, work = std::move(work)](std::stop_token stop) {
        JobContext context(
            stop,
            [this, id](std::string_view stage) {
                QMetaObject::invokeMethod(
                    this,
                    [this, id, s = QString::fromUtf8(stage.data(), static_cast<qsizetype>(stage.size()))] {
                        if (m_jobs.count(id))
                            Q_EMIT jobStage(id, s);
                    },
                    Qt::QueuedConnection);
            },
            [this, id](double fraction) {
                QMetaObject::invokeMethod(
                    this,
                    [this, id, fraction] {
                        if (m_jobs.count(id))
                            Q_EMIT jobProgress(id, fraction);
                    },
                    Qt::QueuedConnection);
            });
        JobOutcome outcome = JobOutcome::Finished;
        QString message;
        try {
            work(context);
            if (stop.stop_requested())
                outcome = JobOutcome::Cancelled;
        } catch (const JobCancelled &) {
            outcome = JobOutcome::Cancelled;
        } catch (const std::exception &e) {
            outcome = JobOutcome::Failed;
            message = QString::fromUtf8(e.what());
        } catch (...) {
            outcome = JobOutcome::Failed;
            message = QStringLiteral("unknown error");
        }
        QMetaObject::invokeMethod(
            this, [this, id, outcome, message] { finish(id, outcome, message); }, Qt::QueuedConnection);
    });
    m_jobs.emplace(id, std::move(job));
    log::jobs()->debug("started job {} ({})", id, title.toStdString());
    Q_EMIT jobStarted(id, tag, title);
    return id;
}

void JobRunner::finish(JobId id, JobOutcome outcome, const QString &message)
{
    auto it = m_jobs.find(id);
    if (it == m_jobs.end())
        return;
    std::unique_ptr<Job> job = std::move(it->second);
    m_jobs.erase(it);
    job->thread.join(); // the worker's last act was posting this call, so this returns at once

    if (auto latest = m_latestByTag.find(job->tag); latest != m_latestByTag.end() && latest->second == id)
        m_latestByTag.erase(latest);
    if (job->superseded && outcome != JobOutcome::Failed)
        outcome = JobOutcome::Superseded;

    if (outcome == JobOutcome::Failed)
        log::jobs()->warn("{} failed: {}", job->title.toStdString(), message.toStdString());
    else
        log::jobs()->debug("job {} ({}) ended", id, job->title.toStdString());

    if (job->receiver && !job->superseded) {
        if (outcome == JobOutcome::Finished && job->onDone)
            job->onDone();
        else if (outcome == JobOutcome::Failed && job->onError)
            job->onError(message);
    }
    Q_EMIT jobFinished(id, outcome, message);
    if (m_jobs.empty())
        Q_EMIT idle();
}

void JobRunner::cancel(JobId id)
{
    if (auto it = m_jobs.find(id); it != m_jobs.end())
        it->second->thread.request_stop();
}

void JobRunner::cancelTag(const QString &tag)
{
    if (auto it = m_latestByTag.find(tag); it != m_latestByTag.end())
        cancel(it->second);
}

void JobRunner::cancelAll()
{
    for (auto &[id, job] : m_jobs)
        job->thread.request_stop();
}

bool JobRunner::isRunning(JobId id) const
{
    return m_jobs.count(id) > 0;
}

bool JobRunner::isTagRunning(const QString &tag) const
{
    return m_latestByTag.count(tag) > 0;
}

} // namespace blockscope::views
