// Experiment files from outside are read in a child process first (store/experimentcheck.h): a
// crash or hang there becomes an error naming the file, and a damaged file never takes this
// process down, whatever its damage (300 seeded corruptions of a real file).
#include "common/formaterror.h"
#include "experimentfixtures.h"
#include "store/experimentcheck.h"
#include "testdata.h"

#include <QFile>
#include <QTest>

#include <chrono>
#include <map>
#include <random>

using namespace blockscope;
using namespace blockscope::test;

namespace {
// A checker that stands in for libhdf5 crashing or hanging on a file.
QString script(const QString &dir, const QString &name, const QByteArray &body)
{
    const QString path = dir + QLatin1Char('/') + name;
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return {};
    f.write("#!/bin/sh\n" + body + "\n");
    f.close();
    f.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    return path;
}

// Sets $BLOCKSCOPE_H5CHECK for one scope.
class CheckerOverride
{
public:
    explicit CheckerOverride(const QString &path)
        : m_old(qgetenv("BLOCKSCOPE_H5CHECK"))
    {
        qputenv("BLOCKSCOPE_H5CHECK", path.toUtf8());
    }
    ~CheckerOverride() { qputenv("BLOCKSCOPE_H5CHECK", m_old); }

private:
    QByteArray m_old;
};
} // namespace

class TestExperimentCheck : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(!experimentCheckerPath().empty(), "blockscope-h5check not found ($BLOCKSCOPE_H5CHECK)");
        m_dir = freshTempDir(QStringLiteral("experimentcheck"));
        m_file = m_dir + QStringLiteral("/real.h5");
        const std::string p = m_file.toStdString();
        // Two runs with their steps: labels, paths, options and protocols are string attributes.
        for (PruneMethod method : {PruneMethod::Sleb, PruneMethod::FinerCut}) {
            const std::string id = ExperimentFile::addRun(p, makeInfo(method, 6, true));
            for (int i = 0; i < 4; ++i)
                ExperimentFile::appendStep(p, id, greedyStep(i, 6));
            ExperimentFile::setStatus(p, id, "complete");
        }
    }

    void readableFileReads()
    {
        const ExperimentCheck c = checkExperimentInChild(m_file.toStdString());
        QCOMPARE(c.outcome, ExperimentCheck::Outcome::Readable);
        QVERIFY2(QString::fromStdString(c.detail).contains(QLatin1String("2 runs")), c.detail.c_str());
        QCOMPARE(readExperimentChecked(m_file.toStdString()).runs.size(), std::size_t(2));
    }

    void notAnExperimentIsRefusedClearly()
    {
        const QString path = m_dir + QStringLiteral("/text.h5");
        writeBytes(path, QByteArray("this is not HDF5\n").repeated(100));
        QCOMPARE(checkExperimentInChild(path.toStdString()).outcome, ExperimentCheck::Outcome::Refused);
        try {
            (void)readExperimentChecked(path.toStdString());
            QFAIL("a text file read as an experiment");
        } catch (const FormatError &e) {
            QCOMPARE(QString::fromStdString(e.file()), path);
        }
    }

    // The checker dying on a signal: the file is refused, naming it and the signal, and never
    // read here (the file itself is fine, so only the check can have refused it).
    void crashIsAnErrorNamingTheFile()
    {
        const CheckerOverride use(script(m_dir, QStringLiteral("crash.sh"), "kill -SEGV $$"));
        const ExperimentCheck c = checkExperimentInChild(m_file.toStdString());
        QCOMPARE(c.outcome, ExperimentCheck::Outcome::Crashed);
        QVERIFY2(QString::fromStdString(c.detail).contains(QLatin1String("SIGSEGV")), c.detail.c_str());
        try {
            (void)readExperimentChecked(m_file.toStdString());
            QFAIL("a file whose check crashed was read");
        } catch (const FormatError &e) {
            QCOMPARE(QString::fromStdString(e.file()), m_file);
            const QString what = QString::fromUtf8(e.what());
            QVERIFY2(what.contains(QLatin1String("crashed")) && what.contains(QLatin1String("SIGSEGV")), e.what());
        }
        try {
            checkExistingExperiment(m_file.toStdString());
            QFAIL("a job would add to a file whose check crashed");
        } catch (const FormatError &) {
        }
    }

    // A format-1 file the fuzzer (tests/fuzz/fuzz_experiment) damaged so that libhdf5 1.10 dies
    // with SIGSEGV in H5HG_read, reading a variable-length string attribute.
    void realLibhdf5CrashIsContained()
    {
        const QString path = m_dir + QStringLiteral("/damaged-h5hg-segv.h5");
        QFile::remove(path);
        QVERIFY(QFile::copy(sourceDir() + QStringLiteral("/tests/fixtures/experiments/damaged-h5hg-segv.h5"), path));
        const ExperimentCheck c = checkExperimentInChild(path.toStdString());
        QCOMPARE(c.outcome, ExperimentCheck::Outcome::Crashed);
        try {
            (void)readExperimentChecked(path.toStdString());
            QFAIL("a file that crashes libhdf5 was read");
        } catch (const FormatError &e) {
            QCOMPARE(QString::fromStdString(e.file()), path);
            QVERIFY2(
                QString::fromUtf8(e.what()).contains(QLatin1String("crashed the HDF5 library (SIGSEGV")), e.what());
        }
    }

    // The checker's CPU limit (libhdf5 spinning) reads as a hang, not a crash.
    void cpuLimitIsAHang()
    {
        const CheckerOverride use(script(m_dir, QStringLiteral("spin.sh"), "kill -XCPU $$"));
        QCOMPARE(checkExperimentInChild(m_file.toStdString()).outcome, ExperimentCheck::Outcome::TimedOut);
        try {
            (void)readExperimentChecked(m_file.toStdString());
            QFAIL("a file whose check spun was read");
        } catch (const FormatError &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QLatin1String("did not finish")), e.what());
        }
    }

    void hangIsStopped()
    {
        const CheckerOverride use(script(m_dir, QStringLiteral("hang.sh"), "exec sleep 60"));
        const auto start = std::chrono::steady_clock::now();
        const ExperimentCheck c = checkExperimentInChild(m_file.toStdString(), std::chrono::milliseconds(300));
        const auto took = std::chrono::steady_clock::now() - start;
        QCOMPARE(c.outcome, ExperimentCheck::Outcome::TimedOut);
        QVERIFY(took < std::chrono::seconds(30)); // stopped, not waited for
    }

    void withoutACheckerTheFileIsStillRead()
    {
        const CheckerOverride use(m_dir + QStringLiteral("/no-such-checker"));
        QVERIFY(experimentCheckerPath().empty());
        QCOMPARE(checkExperimentInChild(m_file.toStdString()).outcome, ExperimentCheck::Outcome::Unchecked);
        QCOMPARE(readExperimentChecked(m_file.toStdString()).runs.size(), std::size_t(2));
        // Nothing to check for a file that does not exist yet (a job creates it).
        checkExistingExperiment((m_dir + QStringLiteral("/new.h5")).toStdString());
    }

    // Random bytes, truncations and overwritten runs of bytes: every file reads, is refused with
    // an error naming it, or crashes or hangs only the checker; none crashes or hangs this process.
    void damagedFilesNeverCrash_data()
    {
        QTest::addColumn<QString>("file");
        QTest::newRow("format 2 (fixed-length strings, as written now)") << QString();
        QTest::newRow("format 1 (variable-length strings)")
            << sourceDir() + QStringLiteral("/tests/fixtures/experiments/format-v1.h5");
    }

    void damagedFilesNeverCrash()
    {
        QFETCH(QString, file);
        const QByteArray original = fileBytes(file.isEmpty() ? m_file : file);
        QVERIFY(original.size() > 4096);
        std::mt19937 rng(20261206);
        std::map<QString, int> tally;
        for (int i = 0; i < 300; ++i) {
            QByteArray bytes = original;
            const auto size = static_cast<std::uint32_t>(bytes.size());
            switch (i % 3) {
            case 0: // a few random bytes anywhere
                for (int k = 0, n = 1 + static_cast<int>(rng() % 8); k < n; ++k)
                    bytes[static_cast<qsizetype>(rng() % size)] = static_cast<char>(rng());
                break;
            case 1: // cut short
                bytes.truncate(static_cast<qsizetype>(rng() % size));
                break;
            case 2: { // a run of bytes overwritten with one value or noise
                const auto at = rng() % size;
                const auto len = std::min<std::uint32_t>(1 + rng() % 512, size - at);
                const bool noise = rng() % 2;
                const char fill = static_cast<char>(rng());
                for (std::uint32_t k = 0; k < len; ++k)
                    bytes[static_cast<qsizetype>(at + k)] = noise ? static_cast<char>(rng()) : fill;
                break;
            }
            }
            const QString path = m_dir + QStringLiteral("/damaged-%1.h5").arg(i);
            writeBytes(path, bytes);
            // A short limit keeps the suite quick: libhdf5 spins on some of these files.
            const ExperimentCheck c = checkExperimentInChild(path.toStdString(), std::chrono::seconds(3));
            tally[QStringLiteral("checker: ") + QString::number(static_cast<int>(c.outcome))]++;
            if (c.outcome != ExperimentCheck::Outcome::Readable && c.outcome != ExperimentCheck::Outcome::Refused) {
                tally[QStringLiteral("contained")]++; // readExperimentChecked refuses these (see above)
                QFile::remove(path);
                continue;
            }
            if (c.outcome == ExperimentCheck::Outcome::Readable) {
                // What readExperimentChecked does next: the same read here, which must succeed.
                (void)ExperimentFile::read(path.toStdString());
                tally[QStringLiteral("read")]++;
            } else {
                // The checker's error, as it is, and no read here.
                try {
                    (void)readExperimentChecked(path.toStdString());
                    QFAIL(qPrintable(QStringLiteral("%1 was refused by the checker and then read").arg(path)));
                } catch (const FormatError &e) {
                    QVERIFY2(QString::fromStdString(e.file()) == path, e.what());
                    tally[QStringLiteral("refused")]++;
                } catch (const UsageError &e) {
                    QVERIFY2(QString::fromUtf8(e.what()).contains(path), e.what());
                    tally[QStringLiteral("refused")]++;
                }
            }
            QFile::remove(path);
        }
        QString summary;
        for (const auto &[what, n] : tally)
            summary += QStringLiteral("%1 %2; ").arg(what).arg(n);
        qInfo("300 damaged files, %s: %s(outcomes 0 readable, 1 refused, 2 crashed, 3 timed out, 4 out of memory)",
            QTest::currentDataTag(), qPrintable(summary));
        QCOMPARE(
            tally[QStringLiteral("read")] + tally[QStringLiteral("refused")] + tally[QStringLiteral("contained")], 300);
    }

private:
    QString m_dir, m_file;
};

QTEST_GUILESS_MAIN(TestExperimentCheck)
#include "tst_experimentcheck.moc"
