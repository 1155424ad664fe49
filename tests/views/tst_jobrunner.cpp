#include "jobrunner.h"
#include "jobs/jobcontext.h"

#include <QSignalSpy>
#include <QTest>
#include <QThread>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
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

    // Partial results arrive on the UI thread in order and before the result; those of a job a
    // newer one superseded never arrive, nor those for a receiver that is gone.
    void partialsReachTheLatestJobOnly()
    {
        JobRunner runner;
        QObject receiver;
        QSignalSpy finished(&runner, &JobRunner::jobFinished);
        std::vector<int> got;
        std::vector<Qt::HANDLE> threads;
        bool resultAfterPartials = false;
        const QString tag = QStringLiteral("steps");
        std::atomic<bool> release = false;
        auto older = runner.partials<int>(tag, &receiver, [&](const int &v) { got.push_back(-v); });
        runner.start(tag, QStringLiteral("older"),
            [&, older](JobContext &job) {
                while (!release)
                    std::this_thread::sleep_for(1ms);
                older(1); // posted after a newer job took the tag: dropped
                job.checkpoint();
            },
            &receiver, {});
        auto newer = runner.partials<int>(tag, &receiver, [&](const int &v) {
            got.push_back(v);
            threads.push_back(QThread::currentThreadId());
        });
        runner.start(
            tag, QStringLiteral("newer"),
            [&, newer](JobContext &) {
                release = true;
                for (int i = 1; i <= 5; ++i)
                    newer(i);
            },
            &receiver, [&] { resultAfterPartials = got.size() == 5; });
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 5000);
        QCOMPARE(got, (std::vector<int>{1, 2, 3, 4, 5}));
        QVERIFY(resultAfterPartials);
        for (Qt::HANDLE t : threads)
            QCOMPARE(t, QThread::currentThreadId());
        // Posted after its job ended: nothing arrives.
        newer(6);
        QTest::qWait(50);
        QCOMPARE(got.size(), std::size_t(5));
    }

    // The engine lane runs one job at a time, in order; a queued job is replaced by a newer one
    // with its tag before it starts, and a cancelled queued job never runs.
    void engineLaneRunsOneJobAtATime()
    {
        JobRunner runner;
        QObject receiver;
        QSignalSpy finished(&runner, &JobRunner::jobFinished);
        QSignalSpy stages(&runner, &JobRunner::jobStage);
        std::atomic<int> inside = 0, most = 0;
        std::vector<QString> ran;
        std::mutex ranLock;
        std::atomic<bool> release = false;
        auto work = [&](const QString &name, bool hold) {
            return [&, name, hold](JobContext &) {
                const int now = ++inside;
                most = std::max(most.load(), now);
                {
                    std::lock_guard g(ranLock);
                    ran.push_back(name);
                }
                while (hold && !release)
                    std::this_thread::sleep_for(1ms);
                std::this_thread::sleep_for(5ms);
                --inside;
            };
        };
        const JobId first = runner.start(QStringLiteral("a"), QStringLiteral("first"),
            work(QStringLiteral("first"), true), &receiver, {}, {}, Lane::Engine);
        const JobId replaced = runner.start(QStringLiteral("b"), QStringLiteral("replaced"),
            work(QStringLiteral("replaced"), false), &receiver, {}, {}, Lane::Engine);
        const JobId cancelled = runner.start(QStringLiteral("c"), QStringLiteral("cancelled"),
            work(QStringLiteral("cancelled"), false), &receiver, {}, {}, Lane::Engine);
        QTRY_COMPARE_WITH_TIMEOUT(runner.queuedOnEngine(), 2, 5000); // once the first has left the queue
        runner.start(QStringLiteral("b"), QStringLiteral("replacement"), work(QStringLiteral("replacement"), false),
            &receiver, {}, {}, Lane::Engine);
        runner.cancel(cancelled);
        // Jobs behind another say so.
        QVERIFY(std::any_of(stages.begin(), stages.end(), [](const QList<QVariant> &a) {
            return a.at(1).toString().contains(QStringLiteral("waiting for the engine"));
        }));
        release = true;
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 4, 5000);
        QCOMPARE(most.load(), 1);
        QCOMPARE(ran, (std::vector<QString>{QStringLiteral("first"), QStringLiteral("replacement")}));
        std::map<JobId, JobOutcome> outcomes;
        for (const auto &args : finished)
            outcomes[args.at(0).value<JobId>()] = args.at(1).value<JobOutcome>();
        QCOMPARE(outcomes[first], JobOutcome::Finished);
        QCOMPARE(outcomes[replaced], JobOutcome::Superseded);
        QCOMPARE(outcomes[cancelled], JobOutcome::Cancelled);
        // An own-lane job runs beside the engine.
        release = false;
        runner.start(QStringLiteral("e"), QStringLiteral("engine"), work(QStringLiteral("engine"), true), &receiver, {},
            {}, Lane::Engine);
        std::atomic<bool> ownRan = false;
        runner.start(QStringLiteral("o"), QStringLiteral("own"), [&](JobContext &) { ownRan = true; }, &receiver, {});
        QTRY_VERIFY_WITH_TIMEOUT(ownRan.load(), 5000);
        release = true;
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 6, 5000);
    }
};

QTEST_GUILESS_MAIN(TestJobRunner)
#include "tst_jobrunner.moc"
