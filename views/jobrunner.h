#pragma once

#include <QObject>
#include <QPointer>
#include <QString>

#include <functional>
#include <map>
#include <memory>
#include <optional>

namespace blockscope {
class JobContext;
}

namespace blockscope::views {

using JobId = quint64;

enum class JobOutcome { Finished, Cancelled, Superseded, Failed };

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

    // Starts `work` on a worker thread. A running job with the same tag is cancelled and its result
    // dropped. `onDone` runs on the UI thread after success, `onError` with the exception's text
    // after a failure; neither runs if `receiver` has been destroyed meanwhile.
    JobId start(const QString &tag, const QString &title, Work work, QObject *receiver, std::function<void()> onDone,
        std::function<void(const QString &)> onError = {});

    // Convenience for work that produces a value: the value is moved to `onResult` on the UI thread.
    template<class T>
    JobId run(const QString &tag, const QString &title, std::function<T(JobContext &)> work, QObject *receiver,
        std::function<void(T)> onResult, std::function<void(const QString &)> onError = {})
    {
        auto slot = std::make_shared<std::optional<T>>();
        return start(
            tag, title, [work = std::move(work), slot](JobContext &job) { slot->emplace(work(job)); }, receiver,
            [onResult = std::move(onResult), slot] { onResult(std::move(**slot)); }, std::move(onError));
    }

    // Asks a job to stop; it reports jobFinished(Cancelled) once its thread has returned.
    void cancel(JobId id);
    void cancelTag(const QString &tag);
    void cancelAll();

    bool isRunning(JobId id) const;
    bool isTagRunning(const QString &tag) const;
    int runningCount() const { return static_cast<int>(m_jobs.size()); }

Q_SIGNALS:
    void jobStarted(blockscope::views::JobId id, const QString &tag, const QString &title);
    void jobStage(blockscope::views::JobId id, const QString &stage);
    void jobProgress(blockscope::views::JobId id, double fraction);
    void jobFinished(blockscope::views::JobId id, blockscope::views::JobOutcome outcome, const QString &message);
    // Emitted when the last running job has finished.
    void idle();

private:
    struct Job;
    void finish(JobId id, JobOutcome outcome, const QString &message);

    std::map<JobId, std::unique_ptr<Job>> m_jobs;
    std::map<QString, JobId> m_latestByTag;
    JobId m_nextId = 1;
};

} // namespace blockscope::views

Q_DECLARE_METATYPE(blockscope::views::JobOutcome)
