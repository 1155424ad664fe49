#pragma once

#include <QObject>
#include <QPointer>
#include <QString>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>

namespace blockscope {
class JobContext;
}

namespace blockscope::views {

using JobId = quint64;

enum class JobOutcome { Finished, Cancelled, Superseded, Failed };

// Where a job runs. Own: a thread of its own (reading files, writing exports). Engine: the one
// worker that runs every LibTorch job in turn, so no model work runs beside another and skews its
// timing or fights it for the cores; a queued engine job is replaced by a newer one with its tag.
enum class Lane { Own, Engine };

// Runs background work for the UI (Hotspot's job tracker idiom). Each job gets its own
// std::jthread and a JobContext whose stop token is the thread's; stages and progress reach the UI
// thread as signals, and the result is handed to a callback there through a queued call, only if
// the receiver still exists and no newer job with the same tag replaced it. Widgets never create
// threads: they ask a runner.
class JobRunner : public QObject
{
    Q_OBJECT
public:
    using Work = std::function<void(JobContext &)>;

    explicit JobRunner(QObject *parent = nullptr);
    // Asks every job to stop and waits for them: the work must honour its stop token.
    ~JobRunner() override;

    // Starts `work` on its lane. An older job with the same tag is cancelled (or, queued on the
    // engine, dropped before it starts) and its result discarded. `onDone` runs on the UI thread
    // after success, `onError` with the exception's text after a failure; neither runs if
    // `receiver` has been destroyed meanwhile.
    JobId start(const QString &tag, const QString &title, Work work, QObject *receiver, std::function<void()> onDone,
        std::function<void(const QString &)> onError = {}, Lane lane = Lane::Own);

    // Convenience for work that produces a value: the value is moved to `onResult` on the UI thread.
    template<class T>
    JobId run(const QString &tag, const QString &title, std::function<T(JobContext &)> work, QObject *receiver,
        std::function<void(T)> onResult, std::function<void(const QString &)> onError = {}, Lane lane = Lane::Own)
    {
        auto slot = std::make_shared<std::optional<T>>();
        return start(
            tag, title, [work = std::move(work), slot](JobContext &job) { slot->emplace(work(job)); }, receiver,
            [onResult = std::move(onResult), slot] { onResult(std::move(**slot)); }, std::move(onError), lane);
    }

    // Partial results (a search's steps, a sweep's points) for the next job started with `tag`:
    // the returned function may be called from the job's thread with each one, and `onPartial`
    // gets it on the UI thread, before the job's own result, unless the job has been superseded or
    // has ended, or `receiver` is gone. Make it right before start()ing that job.
    template<class T>
    std::function<void(const T &)> partials(
        const QString &tag, QObject *receiver, std::function<void(const T &)> onPartial)
    {
        const quint64 epoch = m_epochs[tag] + 1; // what start() gives the next job of this tag
        QPointer<QObject> guard(receiver);
        return [this, tag, epoch, guard, onPartial = std::move(onPartial)](const T &value) {
            QMetaObject::invokeMethod(
                this,
                [this, tag, epoch, guard, onPartial, value] {
                    if (guard && isCurrent(tag, epoch))
                        onPartial(value);
                },
                Qt::QueuedConnection);
        };
    }

    // Asks a job to stop; it reports jobFinished(Cancelled) once its thread has returned.
    void cancel(JobId id);
    void cancelTag(const QString &tag);
    void cancelAll();

    bool isRunning(JobId id) const; // started and not finished (running or queued)
    bool isTagRunning(const QString &tag) const;
    int runningCount() const { return static_cast<int>(m_jobs.size()); }
    // Engine jobs waiting for the one in front of them.
    int queuedOnEngine() const;

Q_SIGNALS:
    void jobStarted(blockscope::views::JobId id, const QString &tag, const QString &title);
    void jobStage(blockscope::views::JobId id, const QString &stage);
    void jobProgress(blockscope::views::JobId id, double fraction);
    void jobFinished(blockscope::views::JobId id, blockscope::views::JobOutcome outcome, const QString &message);
    // Emitted when the last running job has finished.
    void idle();

private:
    struct Job;
    struct Engine;
    // Runs the work on the calling (worker) thread and posts its outcome to finish().
    void execute(JobId id, const Work &work, std::stop_token stop);
    void finish(JobId id, JobOutcome outcome, const QString &message);
    bool isCurrent(const QString &tag, quint64 epoch) const;

    std::map<JobId, std::unique_ptr<Job>> m_jobs;
    std::map<QString, JobId> m_latestByTag;
    std::map<QString, quint64> m_epochs; // jobs started per tag
    JobId m_nextId = 1;
    std::unique_ptr<Engine> m_engine; // last: stopped and joined first
};

} // namespace blockscope::views

Q_DECLARE_METATYPE(blockscope::views::JobOutcome)
