#include "commandline.h"
#include "defaultmodel.h"

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

    void noDefaultModelYet()
    {
        // The bundled demo model will change this; until then the window starts empty.
        QVERIFY(defaultModelPath().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestCommandLine)
#include "tst_commandline.moc"
