// One writer per experiment file (store/experimentlock.h): a file another process holds is
// refused, naming it, and left as it was; holders in one process share the lock; the temporary
// copies of writers that were killed are removed by the next writer.
#include "common/formaterror.h"
#include "experimentfixtures.h"
#include "store/experimentlock.h"
#include "testdata.h"

#include <QDir>
#include <QElapsedTimer>
#include <QProcess>
#include <QTest>

#include <QStandardPaths>

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

using namespace blockscope;
using namespace blockscope::test;

class TestExperimentLock : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void anotherProcessIsRefused()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("flock")).isEmpty())
            QSKIP("flock(1) from util-linux is not installed");
        const QString dir = freshTempDir(QStringLiteral("lock-other"));
        const QString path = dir + QStringLiteral("/experiment.h5");
        const std::string p = path.toStdString();
        const std::string id = ExperimentFile::addRun(p, makeInfo(PruneMethod::Sleb, 6, true));
        const QByteArray before = fileBytes(path);

        // Another process takes the lock the way Blockscope does (flock on the same lock file).
        const QString lockFile = QString::fromStdString(ExperimentWriteLock::lockFileFor(p));
        QProcess other;
        // -o: the lock stays with flock itself (not its sleep), so killing flock releases it.
        other.start(QStringLiteral("flock"),
            {QStringLiteral("-x"), QStringLiteral("-o"), lockFile, QStringLiteral("sleep"), QStringLiteral("30")});
        QVERIFY(other.waitForStarted());
        // Wait until it holds the lock. The probe is a bare non-blocking flock on the same file:
        // a probe through ExperimentWriteLock would remove the lock file on release, and flock(1),
        // which does not check the inode as Blockscope does, could then hold a lock on an unlinked
        // file that nobody else sees (a CI run under load saw exactly that).
        QElapsedTimer timer;
        timer.start();
        bool held = false;
        while (!held && timer.elapsed() < 10000) {
            const int fd = ::open(lockFile.toLocal8Bit().constData(), O_RDONLY | O_CLOEXEC);
            if (fd >= 0) {
                if (::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK)
                    held = true;
                else
                    ::flock(fd, LOCK_UN);
                ::close(fd);
            }
            if (!held)
                QTest::qWait(50);
        }
        QVERIFY2(held, "the other process never held the lock");

        try {
            ExperimentFile::appendStep(p, id, greedyStep(0, 6));
            QFAIL("a second writer was let in");
        } catch (const UsageError &e) {
            const QString what = QString::fromUtf8(e.what());
            QVERIFY2(what.contains(path) && what.contains(QLatin1String("another process")), e.what());
        }
        QCOMPARE(fileBytes(path), before);

        other.kill();
        other.waitForFinished();
        ExperimentFile::appendStep(p, id, greedyStep(0, 6));
        QCOMPARE(ExperimentFile::read(p).runs.front().steps.size(), std::size_t(1));
    }

    void oneProcessShares()
    {
        const QString path = freshTempDir(QStringLiteral("lock-shared")) + QStringLiteral("/experiment.h5");
        const std::string p = path.toStdString();
        const ExperimentWriteLock search(p); // a search holding the file for its run
        {
            const ExperimentWriteLock ppa(p); // a PPA job of the same app
            const std::string id = ExperimentFile::addRun(p, makeInfo(PruneMethod::Sleb, 6, true));
            ExperimentFile::appendStep(p, id, greedyStep(0, 6));
        }
        QCOMPARE(ExperimentFile::read(p).runs.size(), std::size_t(1));
        // Lock files do not pile up: the last holder removes its own.
        const QString lockFile = QString::fromStdString(ExperimentWriteLock::lockFileFor(p));
        QVERIFY(QFile::exists(lockFile)); // `search` still holds it
    }

    void lockFilesDoNotPileUp()
    {
        const QString path = freshTempDir(QStringLiteral("lock-tidy")) + QStringLiteral("/experiment.h5");
        const std::string p = path.toStdString();
        ExperimentFile::addRun(p, makeInfo(PruneMethod::Sleb, 6, true));
        QVERIFY(!QFile::exists(QString::fromStdString(ExperimentWriteLock::lockFileFor(p))));
    }

    void staleCopiesAreRemoved()
    {
        const QString dir = freshTempDir(QStringLiteral("lock-stale"));
        const QString path = dir + QStringLiteral("/experiment.h5");
        const std::string p = path.toStdString();
        ExperimentFile::addRun(p, makeInfo(PruneMethod::Sleb, 6, true));
        // What a writer killed mid-transaction leaves, and a file that only looks alike.
        writeBytes(path + QStringLiteral(".tmp-999999"), "half a copy");
        writeBytes(dir + QStringLiteral("/other.h5.tmp-999999"), "another file's copy");
        writeBytes(path + QStringLiteral(".tmp-notapid"), "not ours");
        ExperimentFile::addRun(p, makeInfo(PruneMethod::FinerCut, 6, true));
        QStringList left = QDir(dir).entryList(QDir::Files);
        left.sort();
        QCOMPARE(left, QStringList({"experiment.h5", "experiment.h5.tmp-notapid", "other.h5.tmp-999999"}));
        QCOMPARE(ExperimentFile::read(p).runs.size(), std::size_t(2));
    }
};

QTEST_GUILESS_MAIN(TestExperimentLock)
#include "tst_experimentlock.moc"
