#include "jobrow.h"
#include "jobrunner.h"
#include "jobs/jobcontext.h"
#include "jobspanel.h"

#include <QLabel>
#include <QProgressBar>
#include <QSignalSpy>
#include <QTest>
#include <QToolButton>

#include <thread>

using namespace blockscope;
using namespace blockscope::views;
using namespace std::chrono_literals;

namespace {
void loopUntilCancelled(JobContext &job)
{
    job.stage("crunching");
    for (int i = 0;; ++i) {
        job.checkpoint();
        job.progress(std::min(i, 50), 100);
        std::this_thread::sleep_for(2ms);
    }
}

QString stageText(JobRow *row)
{
    return row->findChild<QLabel *>(QStringLiteral("stage"))->text();
}
} // namespace

class TestJobsPanel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    // A job of several processes reports one line a rank: they show under the bar, the stage
    // beside the title counts the ranks, and a finished row folds them away.
    void rankLinesShowUnderTheBar()
    {
        JobRow row(7, QStringLiteral("Pruning: sleb, 2 processes"));
        row.show();
        auto *stage = row.findChild<QLabel *>(QStringLiteral("stage"));
        auto *ranks = row.findChild<QLabel *>(QStringLiteral("ranks"));
        QVERIFY(stage && ranks);
        row.setStage(QStringLiteral("SLEB: step 1 of 2"));
        QVERIFY(!ranks->isVisible());
        QCOMPARE(stage->text(), QStringLiteral("SLEB: step 1 of 2"));
        const QString two
            = QStringLiteral("rank 0 \u00b7 SLEB: step 1 of 2  40%\nrank 1 \u00b7 SLEB: step 1 of 2  35%");
        row.setStage(two);
        QVERIFY(ranks->isVisible());
        QCOMPARE(ranks->text(), two);
        QCOMPARE(stage->text(), QStringLiteral("2 ranks"));
        row.setFinished(JobOutcome::Finished, QString());
        QVERIFY(!ranks->isVisible());
    }

    void cancelButtonStopsJob()
    {
        JobRunner runner;
        JobsPanel panel;
        panel.setRunner(&runner);
        panel.show();
        QSignalSpy finished(&runner, &JobRunner::jobFinished);
        const JobId id
            = runner.start(QStringLiteral("loop"), QStringLiteral("Endless"), loopUntilCancelled, &panel, {});
        JobRow *row = panel.row(id);
        QVERIFY(row);
        QTRY_COMPARE_WITH_TIMEOUT(stageText(row), QStringLiteral("crunching"), 5000);
        QTRY_VERIFY_WITH_TIMEOUT(row->findChild<QProgressBar *>()->value() > 0, 5000);

        auto *cancel = row->findChild<QToolButton *>(QStringLiteral("cancel"));
        QVERIFY(cancel && cancel->isVisible() && cancel->isEnabled());
        QTest::mouseClick(cancel, Qt::LeftButton);
        QVERIFY(!cancel->isEnabled()); // no double cancel while it winds down
        QVERIFY(finished.wait(5000));
        QCOMPARE(finished.at(0).at(1).value<JobOutcome>(), JobOutcome::Cancelled);
        QCOMPARE(stageText(row), QStringLiteral("cancelled"));
        QVERIFY(!row->isRunning());
        QVERIFY(cancel->isHidden());
    }

    void finishedJobShowsDoneAndClears()
    {
        JobRunner runner;
        JobsPanel panel;
        panel.setRunner(&runner);
        QSignalSpy finished(&runner, &JobRunner::jobFinished);
        const JobId id = runner.start(
            QStringLiteral("quick"), QStringLiteral("Quick"), [](JobContext &job) { job.progress(1, 1); }, &panel, {});
        QVERIFY(finished.wait(5000));
        QCOMPARE(stageText(panel.row(id)), QStringLiteral("done"));
        QCOMPARE(panel.row(id)->findChild<QProgressBar *>()->value(), 10000);
        QCOMPARE(panel.rowCount(), 1);
        panel.clearFinished();
        QCOMPARE(panel.rowCount(), 0);
    }

    void failureShowsMessage()
    {
        JobRunner runner;
        JobsPanel panel;
        panel.setRunner(&runner);
        QSignalSpy finished(&runner, &JobRunner::jobFinished);
        const JobId id = runner.start(QStringLiteral("bad"), QStringLiteral("Bad"),
            [](JobContext &) { throw std::runtime_error("disk on fire"); }, &panel, {});
        QVERIFY(finished.wait(5000));
        QVERIFY(stageText(panel.row(id)).contains(QStringLiteral("disk on fire")));
    }

    void keepsOnlyRecentFinishedRows()
    {
        JobRunner runner;
        JobsPanel panel;
        panel.setRunner(&runner);
        QSignalSpy finished(&runner, &JobRunner::jobFinished);
        const int jobs = JobsPanel::maxFinishedRows + 3;
        for (int i = 0; i < jobs; ++i)
            runner.start(
                QStringLiteral("j%1").arg(i), QStringLiteral("Job %1").arg(i), [](JobContext &) {}, &panel, {});
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), jobs, 5000);
        QCOMPARE(panel.rowCount(), JobsPanel::maxFinishedRows);
    }
};

QTEST_MAIN(TestJobsPanel)
#include "tst_jobspanel.moc"
