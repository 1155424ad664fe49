// blockscope-cli prune and report as a user runs them: the experiment file grows step by step,
// survives a kill, resumes, refuses newer or damaged files, and the process answers Ctrl-C.
#include "clirunner.h"
#include "store/experimentfile.h"
#include "testdata.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <csignal>

using namespace blockscope;
using namespace blockscope::test;

namespace {
CliResult runCli(const QStringList &args)
{
    return runProgram(QStringLiteral(BLOCKSCOPE_CLI), args);
}

// The steps of the first run in the file, or -1 while the file does not exist yet.
int stepsIn(const QString &path)
{
    if (!QFile::exists(path))
        return -1;
    const Experiment e = ExperimentFile::read(path.toStdString()); // must never throw: writes are atomic
    return e.runs.empty() ? 0 : static_cast<int>(e.runs.front().steps.size());
}

std::vector<Unit> removalOrder(const QString &path)
{
    const Experiment e = ExperimentFile::read(path.toStdString());
    return e.runs.back().steps.back().removedSoFar;
}
} // namespace

class TestCliPrune : public QObject
{
    Q_OBJECT
private:
    QString m_model, m_text;
    QTemporaryDir m_dir;

    QStringList pruneArgs(const QString &method, const QString &target, const QString &out) const
    {
        return {QStringLiteral("prune"), m_model, QStringLiteral("--method"), method, QStringLiteral("--target"),
            target, QStringLiteral("--calib"), m_text, QStringLiteral("--out"), out};
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_model = sharedFile(QStringLiteral("models/stories260K/stories260K.bin"));
        m_text = sharedFile(QStringLiteral("text/tinystories_valid_head.txt"));
        if (m_model.isEmpty() || m_text.isEmpty())
            QSKIP("stories260K or the TinyStories text not found (set BLOCKSCOPE_SHARED_DATA)");
        QVERIFY(m_dir.isValid());
    }

    void pruneThenReport()
    {
        const QString out = m_dir.filePath(QStringLiteral("sleb.h5"));
        const auto r = runCli(pruneArgs(QStringLiteral("sleb"), QStringLiteral("2"), out)
            << QStringLiteral("--eval-windows") << QStringLiteral("16"));
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(r.out.contains("run run-0001"));
        QVERIFY(r.out.contains("removal order: block "));
        // A second run goes into the same file next to the first.
        const auto fc = runCli(pruneArgs(QStringLiteral("finercut"), QStringLiteral("3"), out)
            << QStringLiteral("--eval-windows") << QStringLiteral("8"));
        QVERIFY2(fc.exitCode == 0, fc.err.constData());
        QVERIFY(fc.out.contains("run run-0002"));

        const auto text = runCli({QStringLiteral("report"), out});
        QCOMPARE(text.exitCode, 0);
        QVERIFY(text.out.contains("run-0001") && text.out.contains("run-0002"));
        QVERIFY(text.out.contains("method:       sleb"));
        QVERIFY(text.out.contains("dense PPL:"));
        const auto json = runCli({QStringLiteral("report"), out, QStringLiteral("--format"), QStringLiteral("json")});
        QCOMPARE(json.exitCode, 0);
        const QJsonArray runs = QJsonDocument::fromJson(json.out).array();
        QCOMPARE(runs.size(), 2);
        const QJsonObject sleb = runs[0].toObject();
        const QJsonArray steps = sleb[QStringLiteral("steps")].toArray();
        QCOMPARE(steps.size(), 2);
        for (const auto &s : steps) {
            const double ppl = s.toObject()[QStringLiteral("perplexity")].toDouble();
            QVERIFY2(ppl > 1 && std::isfinite(ppl), "each step carries its perplexity");
        }
        const auto csv = runCli({QStringLiteral("report"), out, QStringLiteral("--run"), QStringLiteral("run-0002"),
            QStringLiteral("--format"), QStringLiteral("csv")});
        QCOMPARE(csv.exitCode, 0);
        QCOMPARE(csv.out.trimmed().split('\n').size(), 4); // header + 3 steps
        const auto missing = runCli({QStringLiteral("report"), out, QStringLiteral("--run"), QStringLiteral("run-9")});
        QCOMPARE(missing.exitCode, 2);
    }

    // A run is resumed only on the calibration windows it was searched on: another context (or a
    // build that cut the text's pools otherwise) is refused, naming both.
    void resumeRefusesOtherWindows()
    {
        const QString out = m_dir.filePath(QStringLiteral("windows.h5"));
        const QStringList args = pruneArgs(QStringLiteral("sleb"), QStringLiteral("1"), out)
            << QStringLiteral("--no-eval") << QStringLiteral("--calib-windows") << QStringLiteral("2");
        const auto first = runCli(QStringList(args) << QStringLiteral("--context") << QStringLiteral("128"));
        QVERIFY2(first.exitCode == 0, first.err.constData());
        ExperimentFile::setStatus(out.toStdString(), "run-0001", "cancelled");
        const auto other = runCli(
            QStringList(args) << QStringLiteral("--context") << QStringLiteral("64") << QStringLiteral("--resume"));
        QCOMPARE(other.exitCode, 2);
        QVERIFY2(
            other.err.contains("calibration windows differ") && other.err.contains("T=128"), other.err.constData());
        const auto same = runCli(
            QStringList(args) << QStringLiteral("--context") << QStringLiteral("128") << QStringLiteral("--resume"));
        QVERIFY2(same.exitCode == 0, same.err.constData());
        QCOMPARE(int(ExperimentFile::read(out.toStdString()).runs.size()), 1);
    }

    // Killing the process mid-search loses at most the step in flight; the file opens and the
    // search resumes to the same result as an uninterrupted run.
    void killThenResume()
    {
        const QString whole = m_dir.filePath(QStringLiteral("whole.h5"));
        const auto ref = runCli(pruneArgs(QStringLiteral("finercut"), QStringLiteral("0"), whole)
            << QStringLiteral("--no-eval") << QStringLiteral("--calib-windows") << QStringLiteral("4"));
        QVERIFY2(ref.exitCode == 0, ref.err.constData());

        const QString killed = m_dir.filePath(QStringLiteral("killed.h5"));
        QProcess p;
        // The naive batch-1 search is slow enough to be caught between steps.
        p.start(QStringLiteral(BLOCKSCOPE_CLI),
            pruneArgs(QStringLiteral("finercut"), QStringLiteral("0"), killed)
                << QStringLiteral("--no-eval") << QStringLiteral("--calib-windows") << QStringLiteral("4")
                << QStringLiteral("--naive") << QStringLiteral("--batch") << QStringLiteral("1"));
        QVERIFY(p.waitForStarted());
        QElapsedTimer t;
        t.start();
        int seen = -1;
        while ((seen = stepsIn(killed)) < 2 && p.state() == QProcess::Running && t.elapsed() < 300000)
            QTest::qWait(20);
        if (p.state() != QProcess::Running) {
            // Over before the kill: only a search that finished well may skip the check.
            QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, p.readAllStandardError().constData());
            QSKIP("the search finished before it could be killed");
        }
        ::kill(static_cast<pid_t>(p.processId()), SIGKILL);
        QVERIFY(p.waitForFinished());
        QCOMPARE(p.exitStatus(), QProcess::CrashExit);

        const Experiment e = ExperimentFile::read(killed.toStdString());
        QCOMPARE(int(e.runs.size()), 1);
        QCOMPARE(e.runs[0].info.status, std::string("running"));
        const int kept = static_cast<int>(e.runs[0].steps.size());
        QVERIFY(kept >= 2 && kept < 10);
        for (int i = 0; i < kept; ++i)
            QCOMPARE(e.runs[0].steps[i].index, i);

        // Resume (with the cache on: how fast a run goes is not part of what it is).
        const auto resumed = runCli(pruneArgs(QStringLiteral("finercut"), QStringLiteral("0"), killed)
            << QStringLiteral("--no-eval") << QStringLiteral("--calib-windows") << QStringLiteral("4")
            << QStringLiteral("--resume"));
        QVERIFY2(resumed.exitCode == 0, resumed.err.constData());
        QVERIFY2(resumed.out.contains(QByteArray::number(kept) + " resumed"), resumed.out.constData());
        const Experiment after = ExperimentFile::read(killed.toStdString());
        QCOMPARE(int(after.runs.size()), 1);
        QCOMPARE(after.runs[0].info.status, std::string("complete"));
        QCOMPARE(int(after.runs[0].steps.size()), 10);
        QVERIFY(removalOrder(killed) == removalOrder(whole));
    }

    void interruptMarksTheRunCancelled()
    {
        const QString out = m_dir.filePath(QStringLiteral("interrupted.h5"));
        QProcess p;
        p.start(QStringLiteral(BLOCKSCOPE_CLI),
            pruneArgs(QStringLiteral("finercut"), QStringLiteral("0"), out)
                << QStringLiteral("--eval-windows") << QStringLiteral("2") << QStringLiteral("--naive")
                << QStringLiteral("--batch") << QStringLiteral("1"));
        QVERIFY(p.waitForStarted());
        QElapsedTimer t;
        t.start();
        while (stepsIn(out) < 1 && p.state() == QProcess::Running && t.elapsed() < 300000)
            QTest::qWait(20);
        if (p.state() != QProcess::Running) {
            QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, p.readAllStandardError().constData());
            QSKIP("the search finished before it could be interrupted");
        }
        ::kill(static_cast<pid_t>(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(60000)); // a guard against a hang, not a timing
        QCOMPARE(p.exitCode(), 130);
        QVERIFY(p.readAllStandardError().contains("--resume"));
        const Experiment e = ExperimentFile::read(out.toStdString());
        QCOMPARE(e.runs[0].info.status, std::string("cancelled"));
        QVERIFY(!e.runs[0].steps.empty());
        // The dense perplexity is written before step 0, so an interrupted run has it.
        QVERIFY(std::isfinite(e.runs[0].info.densePerplexity) && e.runs[0].info.densePerplexity > 1);
        QVERIFY(std::isfinite(e.runs[0].steps[0].perplexity));
    }

    void refusesNewerAndDamagedFiles()
    {
        const QString out = m_dir.filePath(QStringLiteral("small.h5"));
        const auto r
            = runCli(pruneArgs(QStringLiteral("shortgpt"), QStringLiteral("1"), out) << QStringLiteral("--no-eval"));
        QVERIFY2(r.exitCode == 0, r.err.constData());

        const QString newer = m_dir.filePath(QStringLiteral("newer.h5"));
        QVERIFY(QFile::copy(out, newer));
        ExperimentFile::setFormatVersionForTesting(newer.toStdString(), ExperimentFile::FormatVersion + 1);
        const auto n = runCli({QStringLiteral("report"), newer});
        QCOMPARE(n.exitCode, 3);
        QVERIFY2(n.err.contains("newer"), n.err.constData());
        QVERIFY(n.err.contains("newer.h5"));
        // Writing a new run into it is refused as well, and the file is left as it was.
        const QByteArray before = [&] {
            QFile f(newer);
            f.open(QIODevice::ReadOnly);
            return f.readAll();
        }();
        const auto w
            = runCli(pruneArgs(QStringLiteral("shortgpt"), QStringLiteral("1"), newer) << QStringLiteral("--no-eval"));
        QCOMPARE(w.exitCode, 3);
        QFile f(newer);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), before);

        const QString cut = m_dir.filePath(QStringLiteral("truncated.h5"));
        {
            QFile src(out), dst(cut);
            QVERIFY(src.open(QIODevice::ReadOnly) && dst.open(QIODevice::WriteOnly));
            dst.write(src.readAll().left(static_cast<int>(src.size() / 2)));
        }
        const auto t = runCli({QStringLiteral("report"), cut});
        QCOMPARE(t.exitCode, 3);
        QVERIFY2(t.err.contains("truncated.h5"), t.err.constData());
    }

    void invalidOptions_data()
    {
        QTest::addColumn<QStringList>("extra");
        QTest::addColumn<QString>("method");
        QTest::addColumn<QString>("target");
        QTest::addColumn<QString>("message");
        QTest::newRow("SLEB beyond the barriers") << QStringList() << "sleb"
                                                  << "4"
                                                  << "at most 3";
        QTest::newRow("fractional count") << QStringList() << "sleb"
                                          << "1.5"
                                          << "target";
        QTest::newRow("negative target") << QStringList() << "finercut"
                                         << "-1"
                                         << "target";
        QTest::newRow("EvoPress removes every block") << QStringList() << "evopress"
                                                      << "5"
                                                      << "EvoPress";
        QTest::newRow("protected block out of range")
            << QStringList{QStringLiteral("--protect"), QStringLiteral("7")} << "sleb"
            << "1"
            << "protect";
    }
    void invalidOptions()
    {
        QFETCH(QStringList, extra);
        QFETCH(QString, method);
        QFETCH(QString, target);
        QFETCH(QString, message);
        const QString out = m_dir.filePath(QStringLiteral("invalid.h5"));
        QFile::remove(out);
        const auto r = runCli(pruneArgs(method, target, out) << QStringLiteral("--no-eval") << extra);
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(QString::fromUtf8(r.err).contains(message, Qt::CaseInsensitive), r.err.constData());
        // Refused before a run is added: no file with a "failed" run in it.
        QVERIFY(!QFileInfo::exists(out));
    }
};

QTEST_GUILESS_MAIN(TestCliPrune)
#include "tst_cliprune.moc"
