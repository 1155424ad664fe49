#include "commandline.h"
#include "defaultmodel.h"

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
