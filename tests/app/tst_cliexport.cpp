// `blockscope-cli export` as a user runs it: what an export holds, Blockscope reading it back to
// the masked forward's logits, and every way it must refuse or fail without leaving half a folder.
#include "exporttesthelpers.h"
#include "model/modelhandle.h"
#include "model/tensornames.h"
#include "testdata.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace blockscope;
using namespace blockscope::test;

namespace {
QStringList hiddenLeftovers(const QString &parent)
{
    return QDir(parent).entryList({QStringLiteral(".*partial-*"), QStringLiteral(".*old-*")},
        QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot);
}

bool allZero(const ModelHandle &m, const std::string &name)
{
    const TensorInfo *t = m.find(name);
    if (!t)
        return false;
    for (std::byte b : m.data(*t))
        if (b != std::byte{0})
            return false;
    return true;
}
} // namespace

class TestCliExport : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_demo, m_text, m_finercut, m_twoRuns;

    QString path(const QString &name) const { return m_dir.filePath(name); }

    CliResult exportTo(const QString &out, const QStringList &extra = {}, const QString &experiment = {})
    {
        return runExportCli(QStringList{QStringLiteral("export"), experiment.isEmpty() ? m_finercut : experiment,
                                QStringLiteral("--out"), out}
            + extra);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_demo = sourceDir() + QStringLiteral("/resources/demo-model");
        m_text = sharedFile(QStringLiteral("text/tinyshakespeare.txt"));
        if (m_text.isEmpty())
            QSKIP("test data text/tinyshakespeare.txt not found (set BLOCKSCOPE_SHARED_DATA)");
        m_finercut = path(QStringLiteral("finercut.h5"));
        // FinerCut on the demo model removes block 1 whole and the MLP of block 2 (a sublayer of
        // a kept block), so the export both removes a layer and zeroes a projection.
        const auto prune = runExportCli({QStringLiteral("prune"), m_demo, QStringLiteral("--method"),
            QStringLiteral("finercut"), QStringLiteral("--target"), QStringLiteral("3"), QStringLiteral("--calib"),
            m_text, QStringLiteral("--calib-windows"), QStringLiteral("2"), QStringLiteral("--no-eval"),
            QStringLiteral("--quiet"), QStringLiteral("--out"), m_finercut});
        QVERIFY2(prune.exitCode == 0, prune.err.constData());
        m_twoRuns = path(QStringLiteral("two.h5"));
        QVERIFY(QFile::copy(m_finercut, m_twoRuns));
        const auto sleb = runExportCli({QStringLiteral("prune"), m_demo, QStringLiteral("--method"),
            QStringLiteral("sleb"), QStringLiteral("--target"), QStringLiteral("1"), QStringLiteral("--calib"), m_text,
            QStringLiteral("--calib-windows"), QStringLiteral("2"), QStringLiteral("--no-eval"),
            QStringLiteral("--quiet"), QStringLiteral("--out"), m_twoRuns});
        QVERIFY2(sleb.exitCode == 0, sleb.err.constData());
    }

    // The last step by default: layers removed and renumbered, a removed sublayer's projection
    // zeroed, the record of where it came from, and Blockscope reading the folder back to the
    // masked forward's logits.
    void exportsTheLastStep()
    {
        const QString out = path(QStringLiteral("last"));
        const auto r = exportTo(out);
        QVERIFY2(r.exitCode == 0, r.err.constData());
        qInfo("%s", r.out.trimmed().constData());
        const QJsonObject rec = readJsonObject(out + QStringLiteral("/blockscope.json"));
        const QJsonObject source = rec.value(QStringLiteral("source")).toObject();
        QCOMPARE(source.value(QStringLiteral("run")).toObject().value(QStringLiteral("id")).toString(),
            QStringLiteral("run-0001"));
        QCOMPARE(source.value(QStringLiteral("run")).toObject().value(QStringLiteral("method")).toString(),
            QStringLiteral("finercut"));
        QCOMPARE(source.value(QStringLiteral("step")).toObject().value(QStringLiteral("index")).toInt(), 2);
        QVERIFY(source.value(QStringLiteral("model"))
                    .toObject()
                    .value(QStringLiteral("hash"))
                    .toString()
                    .startsWith(QStringLiteral("sha256:")));
        const UnitMask mask = exportedMask(rec);
        QCOMPARE(mask.skippedUnits(), 3);
        int removedBlocks = 0, lone = 0;
        for (int l = 0; l < mask.layers(); ++l)
            mask.blockSkipped(l) ? ++removedBlocks : lone += mask.skipAttn[l] + mask.skipMlp[l];
        QVERIFY2(removedBlocks >= 1 && lone >= 1, mask.describe().c_str());
        const int kept = mask.layers() - removedBlocks;
        QCOMPARE(
            readJsonObject(out + QStringLiteral("/config.json")).value(QStringLiteral("num_hidden_layers")).toInt(),
            kept);
        const QJsonArray zeroed = rec.value(QStringLiteral("zeroed")).toArray();
        QCOMPARE(zeroed.size(), lone);
        for (const char *f : {"model.safetensors", "config.json", "generation_config.json", "tokenizer.json",
                 "tokenizer_config.json", "blockscope.json"})
            QVERIFY2(QFile::exists(out + QLatin1Char('/') + QLatin1String(f)), f);
        QVERIFY(hiddenLeftovers(m_dir.path()).isEmpty());

        const auto back = ModelHandle::open(out.toStdString());
        QCOMPARE(back->architecture().layers, kept);
        QVERIFY(!back->find(layerPrefix(kept) + "mlp.down_proj.weight")); // renumbered: no gap, no extra
        for (const auto v : zeroed)
            QVERIFY2(allZero(*back, v.toString().toStdString()), qPrintable(v.toString()));
        const double diff
            = writeExportReference(m_demo, mask, m_text, kept, path(QStringLiteral("last-ref.safetensors")), out)
                  .maxDiff;
        qInfo("Blockscope reading the export back: max |logit difference| %.3g", diff);
        QVERIFY(diff < 1e-4);
    }

    void exportsAStepOrNothingRemoved()
    {
        const QString step = path(QStringLiteral("step0"));
        auto r = exportTo(step, {QStringLiteral("--step"), QStringLiteral("0")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QCOMPARE(exportedMask(readJsonObject(step + QStringLiteral("/blockscope.json"))).skippedUnits(), 1);

        const QString dense = path(QStringLiteral("dense"));
        r = exportTo(dense, {QStringLiteral("--dense")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject rec = readJsonObject(dense + QStringLiteral("/blockscope.json"));
        QCOMPARE(exportedMask(rec).skippedUnits(), 0);
        QVERIFY(rec.value(QStringLiteral("zeroed")).toArray().isEmpty());
        // The dense export is the source model: the same logits.
        const double diff = writeExportReference(
            m_demo, UnitMask::dense(4), m_text, 4, path(QStringLiteral("dense-ref.safetensors")), dense)
                                .maxDiff;
        qInfo("dense export against the source: max |logit difference| %.3g", diff);
        QVERIFY(diff < 1e-5);
    }

    // Above the shard size: shards and model.safetensors.index.json; --dtype converts every tensor.
    void shardsAndConverts()
    {
        const QString out = path(QStringLiteral("sharded"));
        const auto r = exportTo(out,
            {QStringLiteral("--shard-gb"), QStringLiteral("0.001"), QStringLiteral("--dtype"),
                QStringLiteral("bfloat16")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject index = readJsonObject(out + QStringLiteral("/model.safetensors.index.json"));
        const QJsonObject map = index.value(QStringLiteral("weight_map")).toObject();
        QSet<QString> shards;
        for (const auto v : map)
            shards.insert(v.toString());
        QVERIFY2(shards.size() >= 2, qPrintable(QString::number(shards.size())));
        for (const QString &s : shards)
            QVERIFY2(QFile::exists(out + QLatin1Char('/') + s), qPrintable(s));
        QVERIFY(!QFile::exists(out + QStringLiteral("/model.safetensors")));
        QCOMPARE(readJsonObject(out + QStringLiteral("/config.json")).value(QStringLiteral("torch_dtype")).toString(),
            QStringLiteral("bfloat16"));
        const auto back = ModelHandle::open(out.toStdString());
        for (const TensorInfo &t : back->tensors())
            QCOMPARE(t.dtype, DType::BF16);
        QCOMPARE(static_cast<int>(back->tensors().size()), map.size());
    }

    void refusesWhatDoesNotExist_data()
    {
        QTest::addColumn<QStringList>("extra");
        QTest::addColumn<bool>("twoRuns");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("message");
        QTest::newRow("no such run") << QStringList{QStringLiteral("--run"), QStringLiteral("run-0009")} << false << 2
                                     << "has no run run-0009 (it has run-0001)";
        QTest::newRow("no such step") << QStringList{QStringLiteral("--step"), QStringLiteral("99")} << false << 2
                                      << "has no step 99 (steps 0 to 2)";
        QTest::newRow("no such point") << QStringList{QStringLiteral("--point"), QStringLiteral("step 7")} << false << 2
                                       << "has no PPA point \"step 7\" (it has no PPA points)";
        QTest::newRow("two runs, no --run") << QStringList() << true << 2 << "holds 2 runs (run-0001, run-0002)";
        QTest::newRow("what-if block out of range") << QStringList{QStringLiteral("--skip-block"),
            QStringLiteral("9")} << false << 2 << "--skip-block 9 does not exist: the model has blocks 0..3";
        QTest::newRow("step and point") << QStringList{QStringLiteral("--step"), QStringLiteral("1"),
            QStringLiteral("--point"), QStringLiteral("dense")}
                                        << false << 2 << "excludes";
    }
    void refusesWhatDoesNotExist()
    {
        QFETCH(QStringList, extra);
        QFETCH(bool, twoRuns);
        QFETCH(int, exitCode);
        QFETCH(QString, message);
        const QString out = path(QStringLiteral("refused"));
        const auto r = exportTo(out, extra, twoRuns ? m_twoRuns : QString());
        QCOMPARE(r.exitCode, exitCode);
        QVERIFY2(QString::fromUtf8(r.err).contains(message), r.err.constData());
        QVERIFY(!QFileInfo::exists(out));
        QVERIFY(hiddenLeftovers(m_dir.path()).isEmpty());
    }

    void refusesBadDestinations()
    {
        const QString file = path(QStringLiteral("a-file"));
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("mine");
        f.close();
        auto r = exportTo(file);
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("exists and is not a folder"), r.err.constData());
        r = exportTo(file + QStringLiteral("/below"));
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("is not a folder"), r.err.constData());
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("mine"));

        r = runExportCli({QStringLiteral("export"), m_demo + QStringLiteral("/config.json"), QStringLiteral("--out"),
            path(QStringLiteral("never"))});
        QCOMPARE(r.exitCode, 3);
        QVERIFY2(r.err.contains("config.json"), r.err.constData());
    }

    // A folder that is not empty is kept unless --force; with it, replaced only once the new
    // export is complete.
    void replacesOnlyWithForce()
    {
        const QString out = path(QStringLiteral("mine"));
        QVERIFY(QDir().mkpath(out));
        QFile keep(out + QStringLiteral("/keep.txt"));
        QVERIFY(keep.open(QIODevice::WriteOnly));
        keep.write("notes");
        keep.close();
        auto r = exportTo(out);
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("is not empty; give --force"), r.err.constData());
        QVERIFY(QFile::exists(out + QStringLiteral("/keep.txt")));
        QVERIFY(!QFile::exists(out + QStringLiteral("/config.json")));
        r = exportTo(out, {QStringLiteral("--force")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(!QFile::exists(out + QStringLiteral("/keep.txt")));
        QVERIFY(QFile::exists(out + QStringLiteral("/config.json")));
        QVERIFY(hiddenLeftovers(m_dir.path()).isEmpty());
    }

    // A full disk, simulated by a file-size limit (a read-only folder stops no root process): a
    // clear error naming the file, no folder, nothing hidden left behind, and a folder the user
    // had is untouched.
    void fullDiskLeavesNothingHalfWritten()
    {
        const auto limited = [&](const QString &out, const QStringList &extra) {
            QStringList args{QStringLiteral("-c"), QStringLiteral("ulimit -f 256; exec \"$@\""), QStringLiteral("sh"),
                QStringLiteral(BLOCKSCOPE_CLI), QStringLiteral("export"), m_finercut, QStringLiteral("--out"), out};
            return runProgram(QStringLiteral("/bin/bash"), args + extra);
        };
        const QString fresh = path(QStringLiteral("full"));
        auto r = limited(fresh, {});
        QCOMPARE(r.exitCode, 4);
        QVERIFY2(r.err.contains("cannot write") && r.err.contains("model.safetensors"), r.err.constData());
        QVERIFY(!QFileInfo::exists(fresh));
        QVERIFY(hiddenLeftovers(m_dir.path()).isEmpty());

        const QString had = path(QStringLiteral("had"));
        QVERIFY(exportTo(had, {QStringLiteral("--step"), QStringLiteral("0")}).exitCode == 0);
        r = limited(had, {QStringLiteral("--force")});
        QCOMPARE(r.exitCode, 4);
        QCOMPARE(exportedMask(readJsonObject(had + QStringLiteral("/blockscope.json"))).skippedUnits(), 1);
        QVERIFY(hiddenLeftovers(m_dir.path()).isEmpty());
    }

    // The run's checkpoint changed since the search: refused unless the user says it is the one.
    void refusesAChangedCheckpoint()
    {
        const QString copy = path(QStringLiteral("demo-copy"));
        QVERIFY(QDir().mkpath(copy));
        for (const QString &f : QDir(m_demo).entryList(QDir::Files))
            QVERIFY(QFile::copy(m_demo + QLatin1Char('/') + f, copy + QLatin1Char('/') + f));
        const QString experiment = path(QStringLiteral("copy.h5"));
        const auto prune = runExportCli({QStringLiteral("prune"), copy, QStringLiteral("--method"),
            QStringLiteral("sleb"), QStringLiteral("--target"), QStringLiteral("1"), QStringLiteral("--calib"), m_text,
            QStringLiteral("--calib-windows"), QStringLiteral("1"), QStringLiteral("--no-eval"),
            QStringLiteral("--quiet"), QStringLiteral("--out"), experiment});
        QVERIFY2(prune.exitCode == 0, prune.err.constData());
        QFile training(copy + QStringLiteral("/training.json"));
        QVERIFY(training.open(QIODevice::Append));
        training.write("\n");
        training.close();
        auto r = exportTo(path(QStringLiteral("changed")), {}, experiment);
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("is not the checkpoint run run-0001 searched"), r.err.constData());
        r = exportTo(path(QStringLiteral("changed")), {QStringLiteral("--any-model")}, experiment);
        QVERIFY2(r.exitCode == 0, r.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestCliExport)
#include "tst_cliexport.moc"
