#include "commandline.h"
#include "defaultmodel.h"
#include "testdata.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

using namespace blockscope::gui;

class TestCommandLine : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void parse_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("screenshot");
        QTest::addColumn<QString>("select");
        QTest::addColumn<QSize>("size");
        QTest::addColumn<bool>("error");
        QTest::newRow("no arguments opens the default") << QStringList() << ""
                                                        << ""
                                                        << "" << QSize() << false;
        QTest::newRow("a path") << QStringList({"/m/stories260K.bin"}) << "/m/stories260K.bin"
                                << ""
                                << "" << QSize() << false;
        QTest::newRow("screenshot script")
            << QStringList({"m.bin", "--screenshot", "out.png", "--select", "Block 0/MLP", "--size", "1600x1000"})
            << "m.bin"
            << "out.png"
            << "Block 0/MLP" << QSize(1600, 1000) << false;
        QTest::newRow("two paths") << QStringList({"a", "b"}) << ""
                                   << ""
                                   << "" << QSize() << true;
        QTest::newRow("unknown option") << QStringList({"--frobnicate"}) << ""
                                        << ""
                                        << "" << QSize() << true;
        QTest::newRow("bad size") << QStringList({"--size", "huge"}) << ""
                                  << ""
                                  << "" << QSize() << true;
    }
    void parse()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, path);
        QFETCH(QString, screenshot);
        QFETCH(QString, select);
        QFETCH(QSize, size);
        QFETCH(bool, error);
        args.prepend(QStringLiteral("blockscope"));
        const GuiOptions o = parseCommandLine(args);
        QCOMPARE(!o.error.isEmpty(), error);
        if (error)
            return;
        QCOMPARE(o.path, path);
        QCOMPARE(o.screenshot, screenshot);
        QCOMPARE(o.select, select);
        QCOMPARE(o.windowSize, size);
        QVERIFY(!o.exitNow);
    }

    void pruningOptions_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("experiment");
        QTest::addColumn<QString>("page");
        QTest::addColumn<QStringList>("runs");
        QTest::addColumn<QStringList>("whatIf");
        QTest::addColumn<bool>("error");
        QTest::newRow("none") << QStringList() << ""
                              << "" << QStringList() << QStringList() << false;
        QTest::newRow("experiment") << QStringList({"--experiment", "/e/x.h5"}) << "/e/x.h5"
                                    << "" << QStringList() << QStringList() << false;
        QTest::newRow("compare two runs on the pruning page")
            << QStringList({"--experiment", "x.h5", "--page", "pruning", "--runs", "run-0001, run-0002"}) << "x.h5"
            << "pruning" << QStringList({"run-0001", "run-0002"}) << QStringList() << false;
        QTest::newRow("what-if units") << QStringList({"--what-if", "attn 2,block 1"}) << ""
                                       << "" << QStringList() << QStringList({"attn 2", "block 1"}) << false;
        QTest::newRow("the PPA page of an experiment")
            << QStringList({"--experiment", "x.h5", "--page", "ppa"}) << "x.h5"
            << "ppa" << QStringList() << QStringList() << false;
        QTest::newRow("unknown page") << QStringList({"--page", "gates"}) << ""
                                      << "" << QStringList() << QStringList() << true;
    }
    void pruningOptions()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, experiment);
        QFETCH(QString, page);
        QFETCH(QStringList, runs);
        QFETCH(QStringList, whatIf);
        QFETCH(bool, error);
        args.prepend(QStringLiteral("blockscope"));
        const GuiOptions o = parseCommandLine(args);
        QCOMPARE(!o.error.isEmpty(), error);
        if (error)
            return;
        QCOMPARE(o.experiment, experiment);
        QCOMPARE(o.page, page);
        QCOMPARE(o.runs, runs);
        QCOMPARE(o.whatIf, whatIf);
    }

    void attentionOptions_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("gates");
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("layer");
        QTest::addColumn<QString>("tab");
        QTest::addColumn<QString>("trainGates");
        QTest::addColumn<qint64>("trainSteps");
        QTest::addColumn<bool>("sweep");
        QTest::addColumn<bool>("error");
        QTest::newRow("none") << QStringList() << ""
                              << "" << -1 << ""
                              << "" << qint64(0) << false << false;
        QTest::newRow("screenshot of the attention page") << QStringList({"--page", "attention", "--gates",
            "g.seergate.safetensors", "--attention-text", "t.txt", "--layer", "2", "--attention-tab", "tokens"})
                                                          << "g.seergate.safetensors"
                                                          << "t.txt" << 2 << "tokens"
                                                          << "" << qint64(0) << false << false;
        QTest::newRow("train then sweep")
            << QStringList({"--train-gates", "out.seergate.safetensors", "--train-steps", "50", "--sweep"}) << ""
            << "" << -1 << ""
            << "out.seergate.safetensors" << qint64(50) << true << false;
        QTest::newRow("bad layer") << QStringList({"--layer", "two"}) << ""
                                   << "" << -1 << ""
                                   << "" << qint64(0) << false << true;
        QTest::newRow("negative layer") << QStringList({"--layer", "-1"}) << ""
                                        << "" << -1 << ""
                                        << "" << qint64(0) << false << true;
        QTest::newRow("unknown tab") << QStringList({"--attention-tab", "gates"}) << ""
                                     << "" << -1 << ""
                                     << "" << qint64(0) << false << true;
        QTest::newRow("zero steps") << QStringList({"--train-steps", "0"}) << ""
                                    << "" << -1 << ""
                                    << "" << qint64(0) << false << true;
    }
    void attentionOptions()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, gates);
        QFETCH(QString, text);
        QFETCH(int, layer);
        QFETCH(QString, tab);
        QFETCH(QString, trainGates);
        QFETCH(qint64, trainSteps);
        QFETCH(bool, sweep);
        QFETCH(bool, error);
        args.prepend(QStringLiteral("blockscope"));
        const GuiOptions o = parseCommandLine(args);
        QCOMPARE(!o.error.isEmpty(), error);
        if (error)
            return;
        QCOMPARE(o.gates, gates);
        QCOMPARE(o.attentionText, text);
        QCOMPARE(o.layer, layer);
        QCOMPARE(o.attentionTab, tab);
        QCOMPARE(o.trainGates, trainGates);
        QCOMPARE(o.trainSteps, trainSteps);
        QCOMPARE(o.sweep, sweep);
    }

    void pruneStart_data()
    {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<QString>("method");
        QTest::addColumn<double>("target");
        QTest::addColumn<int>("calib");
        QTest::addColumn<int>("eval");
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("out");
        QTest::addColumn<bool>("error");
        QTest::newRow("method only") << "sleb"
                                     << "sleb" << 0.0 << 0 << 0 << ""
                                     << "" << false;
        QTest::newRow("everything") << "finercut, target=0.25,calib=2,eval=4,text=/t/w.txt,out=/e/x.h5,shot=7,early=1"
                                    << "finercut" << 0.25 << 2 << 4 << "/t/w.txt"
                                    << "/e/x.h5" << false;
        QTest::newRow("unknown method") << "slab,target=1"
                                        << "" << 0.0 << 0 << 0 << ""
                                        << "" << true;
        QTest::newRow("unknown key") << "sleb,windows=2"
                                     << "" << 0.0 << 0 << 0 << ""
                                     << "" << true;
        QTest::newRow("zero target") << "sleb,target=0"
                                     << "" << 0.0 << 0 << 0 << ""
                                     << "" << true;
        QTest::newRow("not a number") << "sleb,calib=two"
                                      << "" << 0.0 << 0 << 0 << ""
                                      << "" << true;
        QTest::newRow("zero shot") << "sleb,shot=0"
                                   << "" << 0.0 << 0 << 0 << ""
                                   << "" << true;
        QTest::newRow("early neither 0 nor 1") << "sleb,early=yes"
                                               << "" << 0.0 << 0 << 0 << ""
                                               << "" << true;
        QTest::newRow("no value") << "sleb,out="
                                  << "" << 0.0 << 0 << 0 << ""
                                  << "" << true;
    }
    void pruneStart()
    {
        QFETCH(QString, spec);
        QFETCH(QString, method);
        QFETCH(double, target);
        QFETCH(int, calib);
        QFETCH(int, eval);
        QFETCH(QString, text);
        QFETCH(QString, out);
        QFETCH(bool, error);
        const GuiOptions o = parseCommandLine({"blockscope", "--prune", spec, "--compute-ppa"});
        QCOMPARE(!o.error.isEmpty(), error);
        if (error) {
            QVERIFY2(o.error.contains(QStringLiteral("--prune")), qPrintable(o.error));
            return;
        }
        QCOMPARE(o.prune.method, method);
        QCOMPARE(o.prune.target, target);
        QCOMPARE(o.prune.calibrationWindows, calib);
        QCOMPARE(o.prune.evaluationWindows, eval);
        QCOMPARE(o.prune.text, text);
        QCOMPARE(o.prune.out, out);
        QCOMPARE(o.prune.shotAtCandidate, spec.contains(QStringLiteral("shot=7")) ? 7 : 0);
        QCOMPARE(o.prune.earlyStop, spec.contains(QStringLiteral("early=1")));
        QVERIFY(o.computePpa);
        QVERIFY(!parseCommandLine({"blockscope"}).computePpa);
    }

    void defaultCalibrationTextSuitsTheModel()
    {
        qunsetenv("BLOCKSCOPE_CALIBRATION_TEXT");
        // With the shared data beside the tree the defaults are its texts; whether it is there is
        // asked of the test's own lookup, not of the function under test.
        if (!blockscope::test::sharedFile(QStringLiteral("text/tinyshakespeare.txt")).isEmpty()) {
            const QString demo = defaultCalibrationText(defaultModelPath());
            QVERIFY2(demo.endsWith(QStringLiteral("text/tinyshakespeare.txt")), qPrintable(demo));
            QVERIFY(defaultCalibrationText(QStringLiteral("/m/stories260K.bin"))
                        .endsWith(QStringLiteral("text/tinystories_valid_head.txt")));
        }
        // The environment wins, when it names a file; a missing one gives no default at all.
        QTemporaryDir dir;
        QFile text(dir.path() + QStringLiteral("/calibration.txt"));
        QVERIFY(text.open(QIODevice::WriteOnly));
        text.close();
        qputenv("BLOCKSCOPE_CALIBRATION_TEXT", text.fileName().toUtf8());
        QCOMPARE(defaultCalibrationText(QStringLiteral("/m/stories260K.bin")), QFileInfo(text).absoluteFilePath());
        qputenv("BLOCKSCOPE_CALIBRATION_TEXT", QByteArray("/no/such/text.txt"));
        QCOMPARE(defaultCalibrationText(QStringLiteral("/m/stories260K.bin")), QString());
        qunsetenv("BLOCKSCOPE_CALIBRATION_TEXT");
    }

    void defaultModelIsTheDemoModel()
    {
        // Without a path the app opens the bundled demo model from the source tree...
        qunsetenv("BLOCKSCOPE_DEMO_MODEL");
        const QString demo = defaultModelPath();
        QVERIFY2(demo.endsWith(QStringLiteral("resources/demo-model")), qPrintable(demo));
        QVERIFY(QFileInfo::exists(demo + QStringLiteral("/model.safetensors")));
        // ...or the folder $BLOCKSCOPE_DEMO_MODEL names, when it holds a model.
        QTemporaryDir dir;
        QFile config(dir.path() + QStringLiteral("/config.json"));
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.close();
        qputenv("BLOCKSCOPE_DEMO_MODEL", dir.path().toUtf8());
        QCOMPARE(defaultModelPath(), QDir(dir.path()).absolutePath());
        qputenv("BLOCKSCOPE_DEMO_MODEL", QByteArray("/nonexistent"));
        QCOMPARE(defaultModelPath(), demo);
        qunsetenv("BLOCKSCOPE_DEMO_MODEL");
    }
};

QTEST_GUILESS_MAIN(TestCommandLine)
#include "tst_commandline.moc"
