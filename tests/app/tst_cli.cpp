// blockscope-cli as a user runs it: output, JSON, exit codes.
#include "hostile.h"
#include "testdata.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTest>

using namespace blockscope::test;

namespace {
struct Result
{
    int exitCode = -1;
    QByteArray out, err;
};

Result runCli(const QStringList &args)
{
    QProcess p;
    p.start(QStringLiteral(BLOCKSCOPE_CLI), args);
    if (!p.waitForFinished(120000))
        qFatal("blockscope-cli did not finish");
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(), p.readAllStandardError()};
}
} // namespace

class TestCli : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void helpDocumentsCommands()
    {
        const auto r = runCli({QStringLiteral("--help")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains("inspect"));
        QVERIFY(r.out.contains("Exit codes"));
        const auto sub = runCli({QStringLiteral("inspect"), QStringLiteral("--help")});
        QCOMPARE(sub.exitCode, 0);
        QVERIFY(sub.out.contains("--json"));
        QVERIFY(sub.out.contains("--stats"));
    }

    void inspectText_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("format");
        QTest::newRow("llama2c") << "models/stories260K/stories260K.bin" << "llama2.c";
        QTest::newRow("gguf") << "models/stories260K/stories260K.gguf" << "GGUF";
    }

    void inspectText()
    {
        QFETCH(QString, file);
        QFETCH(QString, format);
        BLOCKSCOPE_REQUIRE_DATA(path, file);
        const auto r = runCli({QStringLiteral("inspect"), path});
        QCOMPARE(r.exitCode, 0);
        const QString out = QString::fromUtf8(r.out);
        QVERIFY2(out.contains(QStringLiteral("format:          ") + format), qPrintable(out));
        QVERIFY(out.contains(QStringLiteral("blocks:          5")));
        QVERIFY(out.contains(QStringLiteral("heads:           8 (key/value heads 4, head dim 8)")));
        QVERIFY(out.contains(QStringLiteral("model.layers.4.mlp.down_proj.weight")));
    }

    void inspectJsonWithStats()
    {
        BLOCKSCOPE_REQUIRE_DATA(path, "models/stories260K/stories260K.bin");
        const auto r = runCli({QStringLiteral("inspect"), path, QStringLiteral("--json"), QStringLiteral("--stats")});
        QCOMPARE(r.exitCode, 0);
        QJsonParseError err;
        const auto doc = QJsonDocument::fromJson(r.out, &err);
        QVERIFY2(err.error == QJsonParseError::NoError, qPrintable(err.errorString()));
        const auto root = doc.object();
        QCOMPARE(root[QStringLiteral("parameters")].toInteger(), 260032);
        QCOMPARE(root[QStringLiteral("architecture")].toObject()[QStringLiteral("layers")].toInt(), 5);
        const auto tensors = root[QStringLiteral("tensors")].toArray();
        QCOMPARE(tensors.size(), 1 + 5 * 9 + 1);
        for (const auto &t : tensors) {
            const auto stats = t.toObject()[QStringLiteral("stats")].toObject();
            QVERIFY(!stats.isEmpty());
            QVERIFY(stats[QStringLiteral("min")].toDouble() <= stats[QStringLiteral("mean")].toDouble());
            QVERIFY(stats[QStringLiteral("mean")].toDouble() <= stats[QStringLiteral("max")].toDouble());
            QCOMPARE(stats[QStringLiteral("nan")].toInt(), 0);
        }
    }

    void exitCodes_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        QTest::newRow("no command") << QStringList{} << 2;
        QTest::newRow("unknown command") << QStringList{QStringLiteral("frobnicate")} << 2;
        QTest::newRow("missing path argument") << QStringList{QStringLiteral("inspect")} << 2;
        QTest::newRow("path does not exist") << QStringList{QStringLiteral("inspect"), QStringLiteral("/no/such/model.gguf")} << 2;
    }

    void exitCodes()
    {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        const auto r = runCli(args);
        QCOMPARE(r.exitCode, code);
        QVERIFY(!r.err.isEmpty());
    }

    void badInputIsExitThree()
    {
        BLOCKSCOPE_REQUIRE_DATA(src, "models/stories260K/stories260K.gguf");
        const QString path = freshTempDir(QStringLiteral("cli-bad")) + QStringLiteral("/cut.gguf");
        writeFile(path, readFile(src).left(5000));
        const auto r = runCli({QStringLiteral("inspect"), path});
        QCOMPARE(r.exitCode, 3);
        QVERIFY2(r.err.contains(path.toUtf8()), r.err.constData());
        QVERIFY(r.out.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
