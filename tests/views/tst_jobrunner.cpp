#include "jobrunner.h"
#include "jobs/jobcontext.h"

#include <QSignalSpy>
#include <QTest>
#include <QThread>

#include <atomic>
#include <stdexcept>
#include <thread>

using namespace blockscope;
using namespace blockscope::views;
using namespace std::chrono_literals;

namespace {
// Work that runs until cancelled, checking its token the way core loops do.
void loopUntilCancelled(JobContext &job)
{
    job.stage("looping");
    for (int i = 0;; ++i) {
        job.checkpoint();
        job.progress(i % 100, 100);
        std::this_thread::sleep_for(2ms);
    }
}
} // namespace

class TestJobRunner : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void resultReachesUiThread()
    {
        JobRunner runner;
        QObject receiver;
        QSignalSpy finished(&runner, &JobRunner::jobFinished);
        int result = 0;
        Qt::HANDLE resultThread = nullptr;
        runner.run<int>(
            QStringLiteral("answer"), QStringLiteral("Answer"), [](JobContext &) { return 42; }, &receiver,
            [&](int v) {
                result = v;
                resultThread = QThread::currentThreadId();
            });
        QVERIFY(finished.wait(5000));
        QCOMPARE(result, 42);
        QCOMPARE(resultThread, QThread::currentThreadId());
        QCOMPARE(finished.at(0).at(1).value<JobOutcome>(), JobOutcome::Finished);
        QCOMPARE(runner.runningCount(), 0);
    }

    void cancelStopsLoopingJob()
    {
        JobRunner runner;
        QObject receiver;
        QSignalSpy started(&runner, &JobRunner::jobStarted);
        QSignalSpy stage(&runner, &JobRunner::jobStage);
        QSignalSpy finished(&runner, &JobRunner::jobFinished);
        bool delivered = false;
        const JobId id = runner.start(
            QStringLiteral("loop"), QStringLiteral("Loop"), loopUntilCancelled, &receiver, [&] { delivered = true; });
        QCOMPARE(started.count(), 1);
        QVERIFY(stage.wait(5000)); // it is really running
        QVERIFY(runner.isRunning(id));
        runner.cancel(id);
        // The design asks for a second; this only checks that it finished, generously.
        QVERIFY(finished.wait(5000));
        QCOMPARE(finished.at(0).at(0).value<JobId>(), id);
        QCOMPARE(finished.at(0).at(1).value<JobOutcome>(), JobOutcome::Cancelled);
        QVERIFY(!delivered);
        QVERIFY(!runner.isRunning(id));
    }

    void sameTagSupersedes()
    {
        JobRunner runner;
        QObject receiver;
        QSignalSpy finished(&runner, &JobRunner::jobFinished);
        QStringList results;
        auto slow = [](JobContext &job) {
            loopUntilCancelled(job);
            return QStringLiteral("old");
        };
        const JobId first = runner.run<QString>(
            QStringLiteral("tag"), QStringLiteral("first"), slow, &receiver, [&](QString s) { results << s; });
        const JobId second = runner.run<QString>(
            QStringLiteral("tag"), QStringLiteral("second"), [](JobContext &) { return QStringLiteral("new"); },
            &receiver, [&](QString s) { results << s; });
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 5000);
        QCOMPARE(results, QStringList({QStringLiteral("new")}));
        for (const auto &args : finished) {
            const auto id = args.at(0).value<JobId>();
            const auto outcome = args.at(1).value<JobOutcome>();
            QCOMPARE(outcome, id == first ? JobOutcome::Superseded : JobOutcome::Finished);
            QVERIFY(id == first || id == second);
        }
    }

    void differentTagsRunSideBySide()
    {
        JobRunner runner;
        QObject receiver;
        runner.start(QStringLiteral("a"), QStringLiteral("a"), loopUntilCancelled, &receiver, {});
        runner.start(QStringLiteral("b"), QStringLiteral("b"), loopUntilCancelled, &receiver, {});
        QCOMPARE(runner.runningCount(), 2);
        QVERIFY(runner.isTagRunning(QStringLiteral("a")));
        QSignalSpy idle(&runner, &JobRunner::idle);
        runner.cancelAll();
        QVERIFY(idle.wait(5000));
        QCOMPARE(runner.runningCount(), 0);
    }

    void failureMessageReachesErrorCallback()
    {
        JobRunner runner;
        QObject receiver;
        QString error;
        QSignalSpy finished(&runner, &JobRunner::jobFinished);
        runner.start(
            QStringLiteral("fail"), QStringLiteral("Fail"),
            [](JobContext &) { throw std::runtime_error("file.bin: truncated header"); }, &receiver, [] {},
            [&](const QString &m) { error = m; });
        QVERIFY(finished.wait(5000));
        QCOMPARE(error, QStringLiteral("file.bin: truncated header"));
        QCOMPARE(finished.at(0).at(1).value<JobOutcome>(), JobOutcome::Failed);
    }

    void destroyedReceiverGetsNothing()
    {
        JobRunner runner;
        auto *receiver = new QObject;
        std::atomic<bool> release = false;
        bool delivered = false;
        QSignalSpy finished(&runner, &JobRunner::jobFinished);
        runner.start(
            QStringLiteral("r"), QStringLiteral("r"),
            [&](JobContext &) {
                while (!release)
                    std::this_thread::sleep_for(1ms);
            },
            receiver, [&] { delivered = true; });
        delete receiver;
        release = true;
        QVERIFY(finished.wait(5000));
        QVERIFY(!delivered);
    }

    void destructorStopsRunningJobs()
    {
        std::atomic<bool> stopped = false;
        {
            JobRunner runner;
            runner.start(QStringLiteral("loop"), QStringLiteral("Loop"),
                [&](JobContext &job) {
                    try {
                        loopUntilCancelled(job);
                    } catch (const JobCancelled &) {
                        stopped = true;
                        throw;
                    }
                },
                nullptr, {});
        }
        QVERIFY(stopped);
    }
};

QTEST_GUILESS_MAIN(TestJobRunner)
#include "tst_jobrunner.moc"
