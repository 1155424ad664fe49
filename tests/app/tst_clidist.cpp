// blockscope-cli prune as several processes (issue 16): two ranks on localhost give the trace one
// process gives, bit for bit; a killed or silent rank stops the other with an error naming it,
// the file keeps what was done and --resume finishes it; ranks that would search different things
// are refused; a rank that waits alone gives up with the address.
#include "clirunner.h"
#include "common/mappedfile.h"
#include "model/checkpointreaders.h"
#include "model/tensorinfo.h"
#include "store/experimentfile.h"
#include "store/stepjson.h"
#include "testdata.h"

#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstring>
#include <map>

using namespace blockscope;
using namespace blockscope::test;

namespace {

CliResult runCli(const QStringList &args)
{
    return runProgram(QStringLiteral(BLOCKSCOPE_CLI), args);
}

int freePort()
{
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a);
    ::getsockname(s, reinterpret_cast<sockaddr *>(&a), &len);
    ::close(s);
    return ntohs(a.sin_port);
}

// Every step of the file's last run as the journal keeps it (every double exact), without the
// wall times.
std::vector<nlohmann::json> steps(const QString &path)
{
    const Experiment e = ExperimentFile::read(path.toStdString());
    std::vector<nlohmann::json> out;
    for (const TraceStep &s : e.runs.back().steps) {
        nlohmann::json j = stepjson::step(s, true);
        j.erase("seconds");
        out.push_back(std::move(j));
    }
    return out;
}

QString status(const QString &path)
{
    return QString::fromStdString(ExperimentFile::read(path.toStdString()).runs.back().info.status);
}

// Every float32 tensor of a safetensors file (a gate file), by name.
std::map<std::string, std::vector<float>> floatTensors(const QString &path)
{
    const auto file = MappedFile::open(path.toStdString());
    std::vector<std::string> warnings;
    std::map<std::string, std::vector<float>> out;
    for (const TensorInfo &t : readSafetensorsTensors(*file, warnings)) {
        if (t.dtype != DType::F32)
            continue;
        std::vector<float> v(t.elementCount());
        std::memcpy(v.data(), file->data() + t.offset, v.size() * sizeof(float));
        out[t.name] = std::move(v);
    }
    return out;
}

// The children of a process (the ranks a launcher started), from /proc.
std::vector<pid_t> childrenOf(qint64 parent)
{
    std::vector<pid_t> out;
    QFile f(QStringLiteral("/proc/%1/task/%1/children").arg(parent));
    if (f.open(QIODevice::ReadOnly))
        for (const QByteArray &p : f.readAll().split(' '))
            if (!p.trimmed().isEmpty())
                out.push_back(static_cast<pid_t>(p.trimmed().toLongLong()));
    return out;
}

// Starts `args --nproc 2` and waits for rank 0's first step; the ranks' pids, or none when the
// search ended first.
std::vector<pid_t> launchUntilFirstStep(QProcess &launcher, const QStringList &args)
{
    launcher.start(QStringLiteral(BLOCKSCOPE_CLI), QStringList(args) << QStringLiteral("--nproc") << "2");
    if (!launcher.waitForStarted())
        return {};
    QElapsedTimer t;
    t.start();
    while (!launcher.readAllStandardOutput().contains("step   0") && launcher.state() == QProcess::Running
        && t.elapsed() < 300000)
        launcher.waitForReadyRead(100);
    const std::vector<pid_t> ranks = childrenOf(launcher.processId());
    return launcher.state() == QProcess::Running && ranks.size() == 2 ? ranks : std::vector<pid_t>{};
}

// One rank started by hand, as torchrun would.
QProcess *startRank(QObject *owner, int rank, int port, const QStringList &args, const QStringList &extraEnv = {})
{
    auto *p = new QProcess(owner);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("WORLD_SIZE"), QStringLiteral("2"));
    env.insert(QStringLiteral("RANK"), QString::number(rank));
    env.insert(QStringLiteral("LOCAL_RANK"), QString::number(rank));
    env.insert(QStringLiteral("MASTER_ADDR"), QStringLiteral("127.0.0.1"));
    env.insert(QStringLiteral("MASTER_PORT"), QString::number(port));
    for (const QString &kv : extraEnv)
        env.insert(kv.section(QLatin1Char('='), 0, 0), kv.section(QLatin1Char('='), 1));
    p->setProcessEnvironment(env);
    p->start(QStringLiteral(BLOCKSCOPE_CLI), args);
    return p;
}

} // namespace

class TestCliDist : public QObject
{
    Q_OBJECT
private:
    QString m_model, m_text;
    QTemporaryDir m_dir;

    QStringList pruneArgs(const QString &method, const QString &target, const QString &out) const
    {
        return {QStringLiteral("prune"), m_model, QStringLiteral("--method"), method, QStringLiteral("--target"),
            target, QStringLiteral("--calib"), m_text, QStringLiteral("--out"), out, QStringLiteral("--calib-windows"),
            QStringLiteral("8")};
    }

    // The same search alone on one thread: what every rank count must reproduce.
    QString alone(const QStringList &args, const QString &name)
    {
        const QString out = m_dir.filePath(name);
        QStringList a = args;
        a[a.indexOf(QStringLiteral("--out")) + 1] = out;
        const auto r = runCli(a << QStringLiteral("--threads") << QStringLiteral("1"));
        if (r.exitCode != 0)
            qWarning("%s", r.err.constData());
        return r.exitCode == 0 ? out : QString();
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

    void twoRanksGiveOneProcessTrace_data()
    {
        QTest::addColumn<QStringList>("extra");
        // SLEB with each step's evaluation (its batches are dealt over the ranks too).
        QTest::newRow("sleb") << QStringList{QStringLiteral("--method"), QStringLiteral("sleb"),
            QStringLiteral("--target"), QStringLiteral("2"), QStringLiteral("--eval-windows"), QStringLiteral("24")};
        QTest::newRow("finercut") << QStringList{QStringLiteral("--method"), QStringLiteral("finercut"),
            QStringLiteral("--target"), QStringLiteral("4"), QStringLiteral("--no-eval")};
        QTest::newRow("evopress") << QStringList{QStringLiteral("--method"), QStringLiteral("evopress"),
            QStringLiteral("--target"), QStringLiteral("1"), QStringLiteral("--generations"), QStringLiteral("3"),
            QStringLiteral("--stage-tokens"), QStringLiteral("1024,2048"), QStringLiteral("--no-eval")};
    }

    void twoRanksGiveOneProcessTrace()
    {
        QFETCH(QStringList, extra);
        const QString tag = QString::fromLatin1(QTest::currentDataTag());
        QStringList args{QStringLiteral("prune"), m_model, QStringLiteral("--calib"), m_text, QStringLiteral("--out"),
            m_dir.filePath(tag + QStringLiteral("-1.h5")), QStringLiteral("--calib-windows"), QStringLiteral("8")};
        args << extra;
        const QString one = alone(args, tag + QStringLiteral("-1.h5"));
        QVERIFY(!one.isEmpty());
        const QString two = m_dir.filePath(tag + QStringLiteral("-2.h5"));
        args[args.indexOf(QStringLiteral("--out")) + 1] = two;
        const auto r = runCli(args << QStringLiteral("--nproc") << QStringLiteral("2"));
        QVERIFY2(r.exitCode == 0, r.err.constData());
        // Rank 0 alone prints: one summary, not two.
        QCOMPARE(r.out.count("removal order:"), 1);
        QCOMPARE(status(two), QStringLiteral("complete"));
        const auto a = steps(one), b = steps(two);
        QVERIFY(!a.empty());
        QCOMPARE(b.size(), a.size());
        for (std::size_t i = 0; i < a.size(); ++i)
            QVERIFY2(a[i] == b[i],
                ("step " + std::to_string(i) + " differs:\none:  " + a[i].dump() + "\ntwo: " + b[i].dump()).c_str());
    }

    // Gate training data parallel over windows: each rank takes every other window of a step's
    // batch and the gradients are summed, so the weights equal one process's up to the order
    // float32 gradients are added in; the losses printed agree to their printed digits.
    void gateTrainingTwoRanksMatchesOne()
    {
        const QStringList args{QStringLiteral("gates"), QStringLiteral("train"), m_model, QStringLiteral("--calib"),
            m_text, QStringLiteral("--steps"), QStringLiteral("8"), QStringLiteral("--batch"), QStringLiteral("4"),
            QStringLiteral("--held-out"), QStringLiteral("2"), QStringLiteral("--eval-every"), QStringLiteral("4"),
            QStringLiteral("--print-every"), QStringLiteral("1"), QStringLiteral("--calib-windows"),
            QStringLiteral("16")};
        const QString one = m_dir.filePath(QStringLiteral("one.seergate.safetensors"));
        const QString two = m_dir.filePath(QStringLiteral("two.seergate.safetensors"));
        const auto a = runCli(
            QStringList(args) << QStringLiteral("--out") << one << QStringLiteral("--threads") << QStringLiteral("1"));
        QVERIFY2(a.exitCode == 0, a.err.constData());
        const auto b = runCli(
            QStringList(args) << QStringLiteral("--out") << two << QStringLiteral("--nproc") << QStringLiteral("2"));
        QVERIFY2(b.exitCode == 0, b.err.constData());
        // The losses step by step (rank 0 prints them once).
        const auto losses = [](const QByteArray &out) {
            QList<QByteArray> l;
            for (const QByteArray &line : out.split('\n'))
                if (line.startsWith("step "))
                    l.push_back(line.mid(line.indexOf("loss")).split(' ').value(2));
            return l;
        };
        QCOMPARE(losses(b.out).size(), 8);
        QCOMPARE(losses(b.out), losses(a.out));
        const auto wa = floatTensors(one), wb = floatTensors(two);
        QVERIFY(!wa.empty());
        QCOMPARE(wb.size(), wa.size());
        double worst = 0, scale = 0;
        for (const auto &[name, x] : wa) {
            const std::vector<float> &y = wb.at(name);
            QCOMPARE(y.size(), x.size());
            for (std::size_t i = 0; i < x.size(); ++i) {
                worst = std::max(worst, std::abs(double(x[i]) - double(y[i])));
                scale = std::max(scale, std::abs(double(x[i])));
            }
        }
        // Trained weights: the two runs moved them alike.
        QVERIFY2(
            worst <= 1e-5 * scale, qPrintable(QStringLiteral("weights differ by %1 (scale %2)").arg(worst).arg(scale)));
        QVERIFY(a.out.contains("held-out KL:") && b.out.contains("held-out KL:"));
    }

    // PPA measurement shared by two ranks: each measures every other configuration, rank 0 writes
    // all of them once; the modelled figures and the qualities equal one process's.
    void ppaMeasuredByTwoRanks()
    {
        const QString out = m_dir.filePath(QStringLiteral("ppa.h5"));
        const auto searched = runCli(pruneArgs(QStringLiteral("sleb"), QStringLiteral("3"), out)
            << QStringLiteral("--no-eval") << QStringLiteral("--threads") << QStringLiteral("1"));
        QVERIFY2(searched.exitCode == 0, searched.err.constData());
        const QString copy = m_dir.filePath(QStringLiteral("ppa-1.h5"));
        QVERIFY(QFile::copy(out, copy));
        const QStringList measure{QStringLiteral("--runs"), QStringLiteral("1"), QStringLiteral("--warmup"),
            QStringLiteral("0"), QStringLiteral("--seq"), QStringLiteral("32"), QStringLiteral("--decode-tokens"),
            QStringLiteral("2"), QStringLiteral("--no-calibrate")};
        const auto one = runCli(QStringList{QStringLiteral("ppa"), m_model, QStringLiteral("--experiment"), copy}
            << measure << QStringLiteral("--threads") << QStringLiteral("1"));
        QVERIFY2(one.exitCode == 0, one.err.constData());
        const auto two = runCli(QStringList{QStringLiteral("ppa"), m_model, QStringLiteral("--experiment"), out}
            << measure << QStringLiteral("--nproc") << QStringLiteral("2"));
        QVERIFY2(two.exitCode == 0, two.err.constData());
        QCOMPARE(two.out.count("wrote 4 PPA points"), 1);
        const auto a = ExperimentFile::read(copy.toStdString()).runs.back().ppa;
        const auto b = ExperimentFile::read(out.toStdString()).runs.back().ppa;
        QCOMPARE(b.size(), std::size_t(4)); // dense and three steps
        QCOMPARE(b.size(), a.size());
        for (std::size_t i = 0; i < b.size(); ++i) {
            QCOMPARE(QString::fromStdString(b[i].label), QString::fromStdString(a[i].label));
            // Measured by one of the ranks (points 1 and 3 by rank 1), with its unit times.
            QVERIFY2(b[i].measured && b[i].measured->prefillTokensPerSecond.known()
                    && b[i].measured->decodeMsPerToken.known(),
                b[i].label.c_str());
            int timedUnits = 0;
            for (const auto &u : b[i].costs.units)
                timedUnits += u.seconds.known();
            QVERIFY2(timedUnits > 0, b[i].label.c_str());
            QCOMPARE(b[i].costs.prefillFlopsPerToken, a[i].costs.prefillFlopsPerToken);
            QCOMPARE(b[i].costs.storedBytes, a[i].costs.storedBytes);
            QCOMPARE(b[i].mask.skipAttn, a[i].mask.skipAttn);
        }
    }

    // SLEB's early stop runs on each rank's own best score, so which losing candidates stop early
    // (and their lower bounds) may differ; the choices and the chosen scores may not.
    void earlyStopChoosesTheSame()
    {
        QStringList args = pruneArgs(QStringLiteral("sleb"), QStringLiteral("3"), QString());
        args << QStringLiteral("--early-stop") << QStringLiteral("--batch") << QStringLiteral("1")
             << QStringLiteral("--no-eval");
        const QString one = alone(args, QStringLiteral("early-1.h5"));
        QVERIFY(!one.isEmpty());
        const QString two = m_dir.filePath(QStringLiteral("early-2.h5"));
        args[args.indexOf(QStringLiteral("--out")) + 1] = two;
        const auto r = runCli(args << QStringLiteral("--nproc") << QStringLiteral("2"));
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const auto a = steps(one), b = steps(two);
        QCOMPARE(b.size(), a.size());
        for (std::size_t i = 0; i < a.size(); ++i) {
            QCOMPARE(QString::fromStdString(b[i]["chosen"].dump()), QString::fromStdString(a[i]["chosen"].dump()));
            QCOMPARE(QString::fromStdString(b[i]["chosen_score"].dump()),
                QString::fromStdString(a[i]["chosen_score"].dump()));
            QCOMPARE(QString::fromStdString(b[i]["mask"].dump()), QString::fromStdString(a[i]["mask"].dump()));
            // A candidate complete in both runs has the same score.
            for (std::size_t c = 0; c < a[i]["candidates"].size(); ++c) {
                const auto &x = a[i]["candidates"][c], &y = b[i]["candidates"][c];
                if (!x.contains("lower_bound") && !y.contains("lower_bound"))
                    QCOMPARE(QString::fromStdString(y["score"].dump()), QString::fromStdString(x["score"].dump()));
            }
        }
    }

    // A rank killed mid-run: the other stops with an error, the file keeps the steps done and is
    // marked failed, and --resume with two ranks finishes the same search.
    void killedRankThenResume()
    {
        const QString out = m_dir.filePath(QStringLiteral("killed.h5"));
        const QStringList args = pruneArgs(QStringLiteral("sleb"), QStringLiteral("3"), out);
        QProcess launcher;
        const std::vector<pid_t> ranks = launchUntilFirstStep(launcher, args);
        if (ranks.empty())
            QSKIP("the search finished before a rank could be killed");
        ::kill(ranks[1], SIGKILL);
        QVERIFY2(launcher.waitForFinished(60000), "the surviving rank did not stop");
        const QByteArray err = launcher.readAllStandardError();
        QCOMPARE(launcher.exitCode(), 5);
        QVERIFY2(err.contains("[rank 1] ended by signal 9"), err.constData());
        QVERIFY2(err.contains("[rank 0]") && err.contains("stopped answering"), err.constData());
        QCOMPARE(status(out), QStringLiteral("failed"));
        const auto kept = steps(out);
        QVERIFY(!kept.empty() && kept.size() < 3);

        const auto resumed = runCli(QStringList(args) << QStringLiteral("--resume") << "--nproc"
                                                      << "2");
        QVERIFY2(resumed.exitCode == 0, resumed.err.constData());
        QVERIFY2(resumed.out.contains("resumed"), resumed.out.constData());
        QCOMPARE(status(out), QStringLiteral("complete"));
        const QString one = alone(args, QStringLiteral("killed-1.h5"));
        QVERIFY(!one.isEmpty());
        const auto a = steps(one), b = steps(out);
        QCOMPARE(b.size(), a.size());
        for (std::size_t i = 0; i < a.size(); ++i)
            QVERIFY2(a[i] == b[i], ("step " + std::to_string(i) + " differs after the resume").c_str());
    }

    // A rank that stops answering without dying (stopped, or its machine cut off) is named by the
    // heartbeat watch rather than waited for until the group's timeout.
    void silentRankIsNamed()
    {
        const QString out = m_dir.filePath(QStringLiteral("silent.h5"));
        QProcess launcher;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("BLOCKSCOPE_DIST_LOST"), QStringLiteral("2"));
        launcher.setProcessEnvironment(env);
        const std::vector<pid_t> ranks
            = launchUntilFirstStep(launcher, pruneArgs(QStringLiteral("sleb"), QStringLiteral("3"), out));
        if (ranks.empty())
            QSKIP("the search finished before a rank could be stopped");
        ::kill(ranks[1], SIGSTOP);
        QVERIFY2(launcher.waitForFinished(120000), "the launcher did not end the run");
        const QByteArray err = launcher.readAllStandardError();
        QCOMPARE(launcher.exitCode(), 5);
        QVERIFY2(err.contains("[rank 0]") && err.contains("rank 1 of 2 stopped answering"), err.constData());
        QCOMPARE(status(out), QStringLiteral("failed"));
    }

    // Ranks that would search with different data are refused on every rank, before a run is
    // added to the file.
    void mismatchedHashesAreRefused_data()
    {
        QTest::addColumn<QString>("what");
        QTest::newRow("calibration") << QStringLiteral("calibration text's content hash");
        QTest::newRow("model") << QStringLiteral("model's content hash");
    }

    void mismatchedHashesAreRefused()
    {
        QFETCH(QString, what);
        const QString out = m_dir.filePath(
            QStringLiteral("mismatch-") + QString::fromLatin1(QTest::currentDataTag()) + QStringLiteral(".h5"));
        const QString tokenizer = sharedFile(QStringLiteral("models/stories260K/tok512.bin"));
        QStringList args = pruneArgs(QStringLiteral("sleb"), QStringLiteral("1"), out)
            << QStringLiteral("--no-eval") << QStringLiteral("--tokenizer") << tokenizer;
        QStringList other = args;
        if (what.startsWith(QStringLiteral("calibration"))) {
            const QString copy = m_dir.filePath(QStringLiteral("other-text.txt"));
            QFile::remove(copy);
            QVERIFY(QFile::copy(m_text, copy));
            QFile f(copy);
            QVERIFY(f.open(QIODevice::Append));
            f.write("\nOne more line.\n");
            f.close();
            other[other.indexOf(QStringLiteral("--calib")) + 1] = copy;
        } else {
            const QString copy = m_dir.filePath(QStringLiteral("other-model.bin"));
            QFile::remove(copy);
            QVERIFY(QFile::copy(m_model, copy));
            QFile f(copy);
            QVERIFY(f.open(QIODevice::ReadWrite));
            QByteArray bytes = f.readAll();
            bytes[bytes.size() - 1] = static_cast<char>(bytes[bytes.size() - 1] ^ 0x01); // one weight's last bit
            f.seek(0);
            f.write(bytes);
            f.close();
            other[1] = copy;
        }
        const int port = freePort();
        QProcess *r0 = startRank(this, 0, port, args);
        QProcess *r1 = startRank(this, 1, port, other);
        QVERIFY(r0->waitForFinished(120000) && r1->waitForFinished(120000));
        for (QProcess *p : {r0, r1}) {
            const QByteArray err = p->readAllStandardError();
            QCOMPARE(p->exitCode(), 5);
            QVERIFY2(err.contains(("the ranks disagree on the " + what).toUtf8()), err.constData());
            QVERIFY2(err.contains("rank 0 has sha256:") && err.contains("rank 1 has sha256:"), err.constData());
        }
        QVERIFY(!QFile::exists(out) || ExperimentFile::read(out.toStdString()).runs.empty());
    }

    // A rank that cannot start (here: its model path does not exist) is named with its reason by
    // the other, which does not wait for its heartbeat to go quiet.
    void failingRankGivesItsReason()
    {
        const QString out = m_dir.filePath(QStringLiteral("failing.h5"));
        const QStringList args = pruneArgs(QStringLiteral("sleb"), QStringLiteral("1"), out);
        QStringList other = args;
        other[1] = m_dir.filePath(QStringLiteral("no-such-model.bin"));
        const int port = freePort();
        QProcess *r0 = startRank(this, 0, port, args, {QStringLiteral("BLOCKSCOPE_DIST_LOST=600")});
        QProcess *r1 = startRank(this, 1, port, other, {QStringLiteral("BLOCKSCOPE_DIST_LOST=600")});
        QVERIFY(r0->waitForFinished(120000) && r1->waitForFinished(120000));
        const QByteArray err = r0->readAllStandardError();
        QCOMPARE(r0->exitCode(), 5);
        QVERIFY2(err.contains("rank 1 of 2 failed: ") && err.contains("no-such-model.bin"), err.constData());
        QVERIFY(r1->exitCode() != 0);
    }

    // Rank 0 alone: the rendezvous gives up after the timeout, naming the address and the count.
    void rendezvousTimeout()
    {
        const int port = freePort();
        QProcess *r0 = startRank(this, 0, port,
            pruneArgs(QStringLiteral("sleb"), QStringLiteral("1"), m_dir.filePath(QStringLiteral("alone.h5"))),
            {QStringLiteral("BLOCKSCOPE_DIST_TIMEOUT=2")});
        QVERIFY(r0->waitForFinished(60000));
        const QByteArray err = r0->readAllStandardError();
        QCOMPARE(r0->exitCode(), 5);
        QVERIFY2(err.contains(
                     QStringLiteral("rendezvous at 127.0.0.1:%1: 1 of 2 ranks joined within 2 s").arg(port).toUtf8()),
            err.constData());
    }

    void nprocUnderTorchrunIsRefused()
    {
        QProcess *r0 = startRank(this, 0, freePort(),
            pruneArgs(QStringLiteral("sleb"), QStringLiteral("1"), m_dir.filePath(QStringLiteral("nested.h5")))
                << QStringLiteral("--nproc") << QStringLiteral("2"));
        QVERIFY(r0->waitForFinished(60000));
        QCOMPARE(r0->exitCode(), 2);
        QVERIFY(r0->readAllStandardError().contains("under torchrun"));
    }
};

QTEST_GUILESS_MAIN(TestCliDist)
#include "tst_clidist.moc"
