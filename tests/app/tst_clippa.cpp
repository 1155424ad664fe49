// blockscope-cli ppa as a user runs it: modelled figures for named devices, measured ones on this
// machine, PPA points written next to a pruning run and shown by `report`, and clear errors for
// unknown devices and malformed device tables.
#include "clirunner.h"
#include "store/experimentfile.h"
#include "testdata.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace blockscope;
using namespace blockscope::test;

namespace {
CliResult runCli(const QStringList &args)
{
    return runProgram(QStringLiteral(BLOCKSCOPE_CLI), args);
}
} // namespace

class TestCliPpa : public QObject
{
    Q_OBJECT
private:
    QString m_demo;
    QTemporaryDir m_dir;

private Q_SLOTS:
    void initTestCase()
    {
        m_demo = sourceDir() + QStringLiteral("/resources/demo-model");
        QVERIFY(m_dir.isValid());
    }

    void modelledForNamedDevices()
    {
        const CliResult r = runCli({QStringLiteral("ppa"), m_demo, QStringLiteral("--no-measure"),
            QStringLiteral("--predict-for"), QStringLiteral("H100,rtx4090"), QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonArray points = QJsonDocument::fromJson(r.out).array();
        QCOMPARE(points.size(), 1);
        const QJsonObject dense = points[0].toObject();
        QCOMPARE(dense[QStringLiteral("label")].toString(), QStringLiteral("dense"));
        // 4 blocks of d 128 (4 heads of 32, 2 KV heads), MLP 344, vocabulary 1024, tied:
        // embedding 131,072 + 4·(attention 49,280 + MLP 132,224) + final norm 128.
        QCOMPARE(dense[QStringLiteral("costs")].toObject()[QStringLiteral("params_kept")].toInteger(),
            131072 + 4 * (49280 + 132224) + 128);
        QVERIFY(dense[QStringLiteral("measured")].isNull());
        const QJsonArray preds = dense[QStringLiteral("predictions")].toArray();
        QCOMPARE(preds.size(), 2);
        QCOMPARE(preds[0].toObject()[QStringLiteral("device")].toString(), QStringLiteral("H100 SXM"));
        QCOMPARE(preds[1].toObject()[QStringLiteral("device")].toString(), QStringLiteral("RTX 4090"));
        QCOMPARE(preds[0].toObject()[QStringLiteral("provenance")].toString(), QStringLiteral("modelled"));
        QVERIFY(preds[0].toObject()[QStringLiteral("prefill_tokens_per_second")].toDouble()
            > preds[1].toObject()[QStringLiteral("prefill_tokens_per_second")].toDouble());
        QCOMPARE(preds[0].toObject()[QStringLiteral("energy_constants_from")].toString(), QStringLiteral("H100 SXM"));
    }

    void measuredNextToARun()
    {
        const QString model = sharedFile(QStringLiteral("models/stories260K/stories260K.bin"));
        const QString text = sharedFile(QStringLiteral("text/tinystories_valid_head.txt"));
        if (model.isEmpty() || text.isEmpty())
            QSKIP("stories260K or its text is missing");
        const QString exp = m_dir.filePath(QStringLiteral("s.h5"));
        const CliResult prune = runCli({QStringLiteral("prune"), model, QStringLiteral("--method"),
            QStringLiteral("shortgpt"), QStringLiteral("--target"), QStringLiteral("2"), QStringLiteral("--calib"),
            text, QStringLiteral("--calib-windows"), QStringLiteral("4"), QStringLiteral("--eval-windows"),
            QStringLiteral("2"), QStringLiteral("--out"), exp});
        QVERIFY2(prune.exitCode == 0, prune.err.constData());
        const CliResult r = runCli({QStringLiteral("ppa"), model, QStringLiteral("--experiment"), exp,
            QStringLiteral("--seq"), QStringLiteral("32"), QStringLiteral("--decode-tokens"), QStringLiteral("2"),
            QStringLiteral("--runs"), QStringLiteral("2"), QStringLiteral("--warmup"), QStringLiteral("1"),
            QStringLiteral("--threads"), QStringLiteral("1"), QStringLiteral("--predict-for"), QStringLiteral("L4")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY2(r.out.contains("measured on cpu, float32, 1 threads"), r.out.constData());
        QVERIFY2(r.out.contains("energy: none:") || r.out.contains("energy: RAPL"), r.out.constData());
        QVERIFY2(r.out.contains("block-level shares"), r.out.constData());
        QVERIFY2(r.out.contains("wrote 3 PPA points"), r.out.constData());
        // In the file, next to the steps, with quality and provenance.
        const Experiment e = ExperimentFile::read(exp.toStdString());
        const ExperimentRun &run = e.runs.back();
        QCOMPARE(run.ppa.size(), std::size_t(3));
        QCOMPARE(run.ppa[0].label, std::string("dense"));
        QCOMPARE(run.ppa[2].perplexity, run.steps[1].perplexity);
        QVERIFY(run.ppa[2].costs.paramsKept < run.ppa[0].costs.paramsKept);
        QVERIFY(run.ppa[0].measured);
        QCOMPARE(run.ppa[0].measured->prefillTokensPerSecond.provenance, ppa::Provenance::Measured);
        QCOMPARE(run.ppa[0].predictions.size(), std::size_t(2)); // this machine (calibrated) and L4
        QVERIFY(run.ppa[0].predictions[0].calibrated);
        // Every kept unit's share of the energy, labelled (no counter here: modelled).
        for (const ppa::UnitCost &u : run.ppa[0].costs.units) {
            QVERIFY2(u.joulesPerToken.known(), u.unit.c_str());
            QVERIFY(u.joulesPerToken.provenance == ppa::Provenance::Measured
                || u.joulesPerToken.note.find("modelled") != std::string::npos);
        }
        const CliResult report = runCli({QStringLiteral("report"), exp});
        QVERIFY2(report.out.contains("PPA points:"), report.out.constData());
    }

    void errors()
    {
        const CliResult unknown = runCli({QStringLiteral("ppa"), m_demo, QStringLiteral("--no-measure"),
            QStringLiteral("--predict-for"), QStringLiteral("TPU v5")});
        QCOMPARE(unknown.exitCode, 2);
        QVERIFY2(unknown.err.contains("TPU v5") && unknown.err.contains("H200"), unknown.err.constData());
        const QString bad = m_dir.filePath(QStringLiteral("bad.json"));
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"format": "blockscope.devices", "version": 1, "devices": [{"name": "X", "kind": "cpu"}]})");
        f.close();
        const CliResult malformed = runCli({QStringLiteral("ppa"), m_demo, QStringLiteral("--no-measure"),
            QStringLiteral("--devices"), bad, QStringLiteral("--predict-for"), QStringLiteral("X")});
        QCOMPARE(malformed.exitCode, 3);
        QVERIFY2(
            malformed.err.contains("bad.json") && malformed.err.contains("peak_tflops"), malformed.err.constData());
        const CliResult list = runCli({QStringLiteral("ppa"), m_demo, QStringLiteral("--list-devices")});
        QVERIFY2(list.exitCode == 0 && list.out.contains("H200") && list.out.contains("memory_bandwidth_gbps:"),
            list.out.constData());
        const CliResult noRun
            = runCli({QStringLiteral("ppa"), m_demo, QStringLiteral("--no-measure"), QStringLiteral("--experiment"),
                m_dir.filePath(QStringLiteral("s.h5")), QStringLiteral("--run"), QStringLiteral("run-0099")});
        QCOMPARE(noRun.exitCode, 2);
        QVERIFY2(noRun.err.contains("run-0099"), noRun.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestCliPpa)
#include "tst_clippa.moc"
