#include "jobrunner.h"

#include "jobs/jobcontext.h"
#include "log/logging.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
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
    Lane lane = Lane::Own;
    std::stop_source stop;
    std::jthread thread; // Own lane; last: destroyed (joined) before the callbacks it may use
};

// The one worker of the engine lane: a queue of jobs run in the order they came.
struct JobRunner::Engine
{
    struct Task
    {
        JobId id;
        Work work;
        std::stop_token stop;
    };
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Task> queue;
    bool quit = false;
    std::jthread thread; // last: joined before the queue goes

    // Removes a queued (not yet running) task; true when it was there.
    bool drop(JobId id)
    {
        std::lock_guard lock(mutex);
        for (auto it = queue.begin(); it != queue.end(); ++it)
            if (it->id == id) {
                queue.erase(it);
                return true;
            }
        return false;
    }
};

JobRunner::JobRunner(QObject *parent)
    : QObject(parent)
    , m_engine(std::make_unique<Engine>())
{
    // Lets QSignalSpy and queued connections carry the outcome.
    qRegisterMetaType<JobOutcome>();
    qRegisterMetaType<JobId>("blockscope::views::JobId");
    m_engine->thread = std::jthread([this, engine = m_engine.get()] {
        for (;;) {
            Engine::Task task;
            {
                std::unique_lock lock(engine->mutex);
                engine->wake.wait(lock, [&] { return engine->quit || !engine->queue.empty(); });
                if (engine->quit)
                    return;
                task = std::move(engine->queue.front());
                engine->queue.pop_front();
            }
            if (task.stop.stop_requested()) // cancelled or superseded while it waited: it never starts
                QMetaObject::invokeMethod(
                    this, [this, id = task.id] { finish(id, JobOutcome::Cancelled, QString()); }, Qt::QueuedConnection);
            else
                execute(task.id, task.work, task.stop);
        }
    });
}

JobRunner::~JobRunner()
{
    // Request every stop first so the jobs wind down in parallel, then join them one by one.
    for (auto &[id, job] : m_jobs)
        job->stop.request_stop();
    {
        std::lock_guard lock(m_engine->mutex);
        m_engine->quit = true;
        m_engine->queue.clear();
    }
    m_engine->wake.notify_all();
    m_engine->thread.join();
    m_jobs.clear();
}

JobId JobRunner::start(const QString &tag, const QString &title, Work work, QObject *receiver,
    std::function<void()> onDone, std::function<void(const QString &)> onError, Lane lane)
{
    if (auto it = m_latestByTag.find(tag); it != m_latestByTag.end()) {
        if (auto old = m_jobs.find(it->second); old != m_jobs.end()) {
            old->second->superseded = true;
            old->second->stop.request_stop();
            // Queued behind other engine work: it never starts.
            if (old->second->lane == Lane::Engine && m_engine->drop(it->second))
                QMetaObject::invokeMethod(
                    this, [this, id = it->second] { finish(id, JobOutcome::Superseded, QString()); },
                    Qt::QueuedConnection);
        }
    }
    const JobId id = m_nextId++;
    ++m_epochs[tag];
    auto job = std::make_unique<Job>();
    job->tag = tag;
    job->title = title;
    job->receiver = receiver;
    job->onDone = std::move(onDone);
    job->onError = std::move(onError);
    job->lane = lane;
    m_latestByTag[tag] = id;
    const std::stop_token stop = job->stop.get_token();
    bool queued = false;
    if (lane == Lane::Engine) {
        std::lock_guard lock(m_engine->mutex);
        queued = !m_engine->queue.empty()
            || std::any_of(m_jobs.begin(), m_jobs.end(), [](const auto &j) { return j.second->lane == Lane::Engine; });
        m_engine->queue.push_back({id, std::move(work), stop});
    } else {
        job->thread = std::jthread([this, id, work = std::move(work), stop] { execute(id, work, stop); });
    }
    m_jobs.emplace(id, std::move(job));
    if (lane == Lane::Engine)
        m_engine->wake.notify_one();
    log::logger(log::Subsystem::Jobs)->debug("started job {} ({})", id, title.toStdString());
    Q_EMIT jobStarted(id, tag, title);
    if (queued)
        Q_EMIT jobStage(id, tr("waiting for the engine (one model job at a time)"));
    return id;
}

void JobRunner::execute(JobId id, const Work &work, std::stop_token stop)
{
    // The worker posts to `this` only; the runner outlives its threads (its destructor joins them)
    // and Qt drops events posted to an object that is being destroyed.
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
}

void JobRunner::finish(JobId id, JobOutcome outcome, const QString &message)
{
    auto it = m_jobs.find(id);
    if (it == m_jobs.end())
        return;
    std::unique_ptr<Job> job = std::move(it->second);
    m_jobs.erase(it);
    if (job->thread.joinable())
        job->thread.join(); // the worker's last act was posting this call, so this returns at once

    if (auto latest = m_latestByTag.find(job->tag); latest != m_latestByTag.end() && latest->second == id)
        m_latestByTag.erase(latest);
    if (job->superseded && outcome != JobOutcome::Failed)
        outcome = JobOutcome::Superseded;

    if (outcome == JobOutcome::Failed)
        log::logger(log::Subsystem::Jobs)->warn("{} failed: {}", job->title.toStdString(), message.toStdString());
    else
        log::logger(log::Subsystem::Jobs)->debug("job {} ({}) ended", id, job->title.toStdString());

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

bool JobRunner::isCurrent(const QString &tag, quint64 epoch) const
{
    const auto e = m_epochs.find(tag);
    return e != m_epochs.end() && e->second == epoch && m_latestByTag.count(tag) > 0;
}

void JobRunner::cancel(JobId id)
{
    auto it = m_jobs.find(id);
    if (it == m_jobs.end())
        return;
    it->second->stop.request_stop();
    // Still queued on the engine: it ends now rather than when its turn comes.
    if (it->second->lane == Lane::Engine && m_engine->drop(id))
        QMetaObject::invokeMethod(
            this, [this, id] { finish(id, JobOutcome::Cancelled, QString()); }, Qt::QueuedConnection);
}

void JobRunner::cancelTag(const QString &tag)
{
    if (auto it = m_latestByTag.find(tag); it != m_latestByTag.end())
        cancel(it->second);
}

void JobRunner::cancelAll()
{
    std::vector<JobId> ids;
    for (auto &[id, job] : m_jobs)
        ids.push_back(id);
    for (JobId id : ids)
        cancel(id);
}

bool JobRunner::isRunning(JobId id) const
{
    return m_jobs.count(id) > 0;
}

bool JobRunner::isTagRunning(const QString &tag) const
{
    return m_latestByTag.count(tag) > 0;
}

int JobRunner::queuedOnEngine() const
{
    std::lock_guard lock(m_engine->mutex);
    return static_cast<int>(m_engine->queue.size());
}

} // namespace blockscope::views
