// Exports proved by the reference tools (label interop): transformers reloads each export and its
// logits must equal Blockscope's masked forward of the same configuration within 1e-4 in float32,
// and its tokenizer must give Blockscope's tokens; on the demo model and on SmolLM2, for a SLEB,
// a FinerCut (sublayers removed) and an EvoPress result.
#include "exporttesthelpers.h"
#include "model/checkpointreaders.h"
#include "model/ggufmetadata.h"
#include "model/modelhandle.h"
#include "testdata.h"

#include <nlohmann/json.hpp>

#include <QFileInfo>
#include <QMap>
#include <QTemporaryDir>
#include <QTest>

using namespace blockscope;
using namespace blockscope::test;

namespace {
// EvoPress on SmolLM2 sized for a test: one generation, small selection stages.
QStringList kSmolEvo()
{
    return {QStringLiteral("--generations"), QStringLiteral("1"), QStringLiteral("--calib-windows"),
        QStringLiteral("8"), QStringLiteral("--initial-genomes"), QStringLiteral("4"),
        QStringLiteral("--initial-tokens"), QStringLiteral("256"), QStringLiteral("--stage-tokens"),
        QStringLiteral("256,1024"), QStringLiteral("--offspring"), QStringLiteral("4")};
}

// The mask a GGUF export records in its blockscope.export metadata.
UnitMask ggufExportMask(const QString &file)
{
    const GgufMetadata meta = readGgufMetadata(file.toStdString());
    const auto record = nlohmann::json::parse(meta.find("blockscope.export")->s);
    const auto &configuration = record.at("configuration");
    UnitMask m = UnitMask::dense(record.at("blocks").get<int>());
    for (int l : configuration.at("removed_attention"))
        m.skipAttn[static_cast<std::size_t>(l)] = true;
    for (int l : configuration.at("removed_mlp"))
        m.skipMlp[static_cast<std::size_t>(l)] = true;
    return m;
}
} // namespace

class TestExportInterop : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QMap<QString, QString> m_experiments; // one search per model and options, shared by the checks

    // The source model and text of a row ("demo" or "smollm2"); empty when its data is missing.
    static bool modelAndText(const QString &model, QString &path, QString &text)
    {
        if (model == QLatin1String("smollm2")) {
            path = smolLm2Gguf();
            text = sharedFile(QStringLiteral("text/tinystories_valid_head.txt"));
        } else if (model == QLatin1String("stories260K")) {
            // A GGUF with a SentencePiece-by-score ("llama") vocabulary.
            path = sharedFile(QStringLiteral("models/stories260K/stories260K.gguf"));
            text = sharedFile(QStringLiteral("text/tinystories_valid_head.txt"));
        } else {
            path = sourceDir() + QStringLiteral("/resources/demo-model");
            text = sharedFile(QStringLiteral("text/tinyshakespeare.txt"));
        }
        return !path.isEmpty() && !text.isEmpty();
    }

    QString experimentFor(const QString &model, const QStringList &prune, const QString &path, const QString &text)
    {
        const QString key = model + QLatin1Char(' ') + prune.join(QLatin1Char(' '));
        if (m_experiments.contains(key))
            return m_experiments.value(key);
        const QString file = m_dir.filePath(QStringLiteral("run-%1.h5").arg(m_experiments.size()));
        const auto p = runExportCli(
            QStringList{QStringLiteral("prune"), path, QStringLiteral("--calib"), text, QStringLiteral("--out"), file}
            + prune);
        if (p.exitCode != 0) {
            qWarning("%s", p.err.constData());
            return {};
        }
        m_experiments.insert(key, file);
        return file;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        if (!QFileInfo(QStringLiteral(BLOCKSCOPE_REF_PYTHON)).isExecutable())
            QSKIP("no reference Python (the LibTorch venv with transformers; packaging/setup-deps.sh makes it)");
    }

    void reloadsWithTransformers_data()
    {
        QTest::addColumn<QString>("model"); // "demo" or "smollm2"
        QTest::addColumn<QStringList>("prune");
        QTest::addColumn<QStringList>("exportArgs");
        QTest::addColumn<double>("tolerance");
        const QStringList fast{QStringLiteral("--no-eval"), QStringLiteral("--quiet")};
        const auto method = [](const char *m, const char *target) {
            return QStringList{
                QStringLiteral("--method"), QLatin1String(m), QStringLiteral("--target"), QLatin1String(target)};
        };
        const QStringList demoWindows{QStringLiteral("--calib-windows"), QStringLiteral("2")};
        QTest::newRow("demo sleb") << "demo" << method("sleb", "1") + demoWindows + fast << QStringList() << 1e-4;
        QTest::newRow("demo finercut") << "demo" << method("finercut", "3") + demoWindows + fast << QStringList()
                                       << 1e-4;
        QTest::newRow("demo evopress") << "demo"
                                       << method("evopress", "2")
                + QStringList{QStringLiteral("--generations"), QStringLiteral("2")} + fast
                                       << QStringList() << 1e-4;
        QTest::newRow("demo dense") << "demo" << method("sleb", "1") + demoWindows + fast
                                    << QStringList{QStringLiteral("--dense")} << 1e-4;
        QTest::newRow("demo finercut sharded")
            << "demo" << method("finercut", "3") + demoWindows + fast
            << QStringList{QStringLiteral("--shard-gb"), QStringLiteral("0.001")} << 1e-4;
        QTest::newRow("stories260K gguf finercut")
            << "stories260K" << method("finercut", "2") + demoWindows + fast << QStringList() << 1e-4;
        // SmolLM2 on short windows, so each search takes seconds to a minute.
        const QStringList smol{QStringLiteral("--context"), QStringLiteral("128")};
        QTest::newRow("smollm2 sleb") << "smollm2"
                                      << method("sleb", "1") + smol
                + QStringList{QStringLiteral("--calib-windows"), QStringLiteral("2")} + fast
                                      << QStringList() << 1e-4;
        QTest::newRow("smollm2 finercut") << "smollm2"
                                          << method("finercut", "3") + smol
                + QStringList{QStringLiteral("--calib-windows"), QStringLiteral("1")} + fast
                                          << QStringList() << 1e-4;
        QTest::newRow("smollm2 evopress")
            << "smollm2" << method("evopress", "1") + smol + kSmolEvo() + fast << QStringList() << 1e-4;
    }

    void reloadsWithTransformers()
    {
        QFETCH(QString, model);
        QFETCH(QStringList, prune);
        QFETCH(QStringList, exportArgs);
        QFETCH(double, tolerance);
        QString modelPath, text;
        if (model == QLatin1String("smollm2")) {
            BLOCKSCOPE_REQUIRE_SMOLLM2(gguf);
        }
        if (!modelAndText(model, modelPath, text))
            QSKIP("test data not found (set BLOCKSCOPE_SHARED_DATA)");
        const QString tag = QString::fromLatin1(QTest::currentDataTag()).replace(QLatin1Char(' '), QLatin1Char('-'));
        const QString experiment = experimentFor(model, prune, modelPath, text);
        QVERIFY(!experiment.isEmpty());
        const QString out = m_dir.filePath(tag);
        const auto e = runExportCli(
            QStringList{QStringLiteral("export"), experiment, QStringLiteral("--out"), out} + exportArgs);
        QVERIFY2(e.exitCode == 0, e.err.constData());
        qInfo("%s", e.out.trimmed().constData());
        const QJsonObject rec = readJsonObject(out + QStringLiteral("/blockscope.json"));
        const UnitMask mask = exportedMask(rec);
        const int kept = static_cast<int>(rec.value(QStringLiteral("kept_blocks")).toArray().size());
        if (tag.contains(QLatin1String("finercut")))
            QVERIFY2(!rec.value(QStringLiteral("zeroed")).toArray().isEmpty(), mask.describe().c_str());
        const QString reference = out + QStringLiteral("-reference.safetensors");
        writeExportReference(modelPath, mask, text, kept, reference);
        const auto check = runProgram(QStringLiteral(BLOCKSCOPE_REF_PYTHON),
            {sourceDir() + QStringLiteral("/tests/interop/check_hf_export.py"), out, reference,
                QStringLiteral("--tolerance"), QString::number(tolerance)});
        qInfo("%s: %s", qPrintable(QString::fromStdString(mask.describe())), check.out.trimmed().constData());
        QVERIFY2(check.exitCode == 0, (check.out + check.err.right(3000)).constData());
    }

    // GGUF exports read by the gguf package and by transformers (gguf_file=). Exact types (F32, or
    // the source's own blocks copied) must give the source's masked forward within 1e-4;
    // converted ones must give what Blockscope computes from the exported file, and Blockscope's
    // reading of it must stay near the masked forward.
    void readsGgufWithTheReferenceTools_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QStringList>("prune");
        QTest::addColumn<QString>("type"); // "" keeps the source's types
        QTest::addColumn<bool>("exact");
        // Converted types: the share of positions where Blockscope's forward of the export picks the
        // masked forward's most likely token (a wrong row order or a lost unit falls far below).
        QTest::addColumn<double>("top1");
        const QStringList fast{QStringLiteral("--no-eval"), QStringLiteral("--quiet")};
        const auto method = [](const char *m, const char *target) {
            return QStringList{
                QStringLiteral("--method"), QLatin1String(m), QStringLiteral("--target"), QLatin1String(target)};
        };
        const QStringList demoWindows{QStringLiteral("--calib-windows"), QStringLiteral("2")};
        const QStringList smol{QStringLiteral("--context"), QStringLiteral("128")};
        QTest::newRow("demo sleb F32") << "demo" << method("sleb", "1") + demoWindows + fast << "F32" << true << 1.0;
        QTest::newRow("demo finercut F16")
            << "demo" << method("finercut", "3") + demoWindows + fast << "F16" << false << 0.95;
        QTest::newRow("demo evopress Q8_0")
            << "demo"
            << method("evopress", "2") + QStringList{QStringLiteral("--generations"), QStringLiteral("2")} + fast
            << "Q8_0" << false << 0.9;
        QTest::newRow("smollm2 sleb kept Q4_1")
            << "smollm2"
            << method("sleb", "1") + smol + QStringList{QStringLiteral("--calib-windows"), QStringLiteral("2")} + fast
            << "" << true << 1.0;
        QTest::newRow("smollm2 finercut Q8_0") << "smollm2"
                                               << method("finercut", "3") + smol
                + QStringList{QStringLiteral("--calib-windows"), QStringLiteral("1")} + fast
                                               << "Q8_0" << false << 0.9;
        QTest::newRow("smollm2 evopress BF16")
            << "smollm2" << method("evopress", "1") + smol + kSmolEvo() + fast << "BF16" << false << 0.9;
    }

    void readsGgufWithTheReferenceTools()
    {
        QFETCH(QString, model);
        QFETCH(QStringList, prune);
        QFETCH(QString, type);
        QFETCH(bool, exact);
        QFETCH(double, top1);
        QString modelPath, text;
        if (model == QLatin1String("smollm2")) {
            BLOCKSCOPE_REQUIRE_SMOLLM2(gguf);
        }
        if (!modelAndText(model, modelPath, text))
            QSKIP("test data not found (set BLOCKSCOPE_SHARED_DATA)");
        const QString experiment = experimentFor(model, prune, modelPath, text);
        QVERIFY(!experiment.isEmpty());
        const QString tag = QString::fromLatin1(QTest::currentDataTag()).replace(QLatin1Char(' '), QLatin1Char('-'));
        const QString out = m_dir.filePath(tag + QStringLiteral(".gguf"));
        QStringList args{QStringLiteral("export"), experiment, QStringLiteral("--format"), QStringLiteral("gguf"),
            QStringLiteral("--out"), out};
        if (!type.isEmpty())
            args << QStringLiteral("--gguf-type") << type;
        const auto e = runExportCli(args);
        QVERIFY2(e.exitCode == 0, e.err.constData());
        qInfo("%s", e.out.trimmed().constData());
        // The configuration, from the record the export keeps in its metadata, via the CLI's report
        // of it: blockscope.export holds the mask Blockscope describes.
        const auto back = ModelHandle::open(out.toStdString());
        const UnitMask mask = ggufExportMask(out);
        const int kept = static_cast<int>(back->architecture().layers);
        const QString reference = out + QStringLiteral("-reference.safetensors");
        const ReloadAgreement a = writeExportReference(modelPath, mask, text, kept, reference, out, !exact);
        qInfo("Blockscope's forward of the export against the masked forward: max |difference| %.3g, the same "
              "most likely token at %.1f%% of positions",
            a.maxDiff, 100 * a.top1);
        if (exact)
            QVERIFY(a.maxDiff <= 1e-4);
        QVERIFY(a.top1 >= top1);
        QStringList check{sourceDir() + QStringLiteral("/tests/interop/check_gguf_export.py"), out, reference,
            QStringLiteral("--tolerance"), QStringLiteral("1e-4")};
        if (!type.isEmpty())
            check << QStringLiteral("--type") << type;
        const auto c = runProgram(QStringLiteral(BLOCKSCOPE_REF_PYTHON), check);
        qInfo("%s: %s", mask.describe().c_str(), c.out.trimmed().constData());
        QVERIFY2(c.exitCode == 0, (c.out + c.err.right(3000)).constData());
    }
};

QTEST_GUILESS_MAIN(TestExportInterop)
#include "tst_exportinterop.moc"
