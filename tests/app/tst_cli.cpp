// blockscope-cli as a user runs it: output, JSON, exit codes.
#include "clirunner.h"
#include "hostile.h"
#include "testdata.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTest>

using namespace blockscope::test;

namespace {
CliResult runCli(const QStringList &args)
{
    return runProgram(QStringLiteral(BLOCKSCOPE_CLI), args, 120000);
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
        QTest::newRow("llama2c") << "models/stories260K/stories260K.bin"
                                 << "llama2.c";
        QTest::newRow("gguf") << "models/stories260K/stories260K.gguf"
                              << "GGUF";
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
        QTest::newRow("path does not exist")
            << QStringList{QStringLiteral("inspect"), QStringLiteral("/no/such/model.gguf")} << 2;
    }

    void exitCodes()
    {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        const auto r = runCli(args);
        QCOMPARE(r.exitCode, code);
        QVERIFY(!r.err.isEmpty());
    }

    void evalJson()
    {
        BLOCKSCOPE_REQUIRE_DATA(model, "models/stories260K/stories260K.bin");
        BLOCKSCOPE_REQUIRE_DATA(text, "text/tinystories_valid_head.txt");
        const auto r
            = runCli({QStringLiteral("eval"), model, QStringLiteral("--text"), text, QStringLiteral("--max-windows"),
                QStringLiteral("4"), QStringLiteral("--skip-block"), QStringLiteral("2"), QStringLiteral("--json")});
        QCOMPARE(r.exitCode, 0);
        const auto root = QJsonDocument::fromJson(r.out).object();
        const auto protocol = root[QStringLiteral("protocol")].toObject();
        QCOMPARE(protocol[QStringLiteral("preset")].toString(), QStringLiteral("tiny-ts"));
        QCOMPARE(protocol[QStringLiteral("windows")].toInt(), 4);
        QCOMPARE(protocol[QStringLiteral("context")].toInt(), 512);
        QCOMPARE(protocol[QStringLiteral("scored_tokens")].toInt(), 4 * 511);
        QCOMPARE(protocol[QStringLiteral("bos")].toString(), QStringLiteral("window"));
        QVERIFY(protocol[QStringLiteral("tokenizer")].toString().contains(QStringLiteral("tok512.bin")));
        const double pruned = root[QStringLiteral("result")].toObject()[QStringLiteral("perplexity")].toDouble();
        const double dense = root[QStringLiteral("dense")].toObject()[QStringLiteral("perplexity")].toDouble();
        QVERIFY2(dense > 2 && dense < 20, qPrintable(QString::number(dense)));
        QVERIFY(pruned > dense);
        QCOMPARE(
            root[QStringLiteral("result")].toObject()[QStringLiteral("mask")].toString(), QStringLiteral("block 2"));
        QVERIFY(root[QStringLiteral("distance_to_dense")].toObject()[QStringLiteral("kl_per_token")].toDouble() > 0);
    }

    void evalBadInput_data()
    {
        QTest::addColumn<QString>("textContent");
        QTest::addColumn<QStringList>("extra");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("message");
        QTest::newRow("empty text") << QString() << QStringList{} << 3 << "empty";
        QTest::newRow("text not UTF-8") << QStringLiteral("latin1:\xE9t\xE9") << QStringList{} << 3 << "UTF-8";
        QTest::newRow("context beyond the model")
            << QStringLiteral("ok") << QStringList{QStringLiteral("--context"), QStringLiteral("4096")} << 2
            << "longer than the model supports";
        QTest::newRow("cuda without a device")
            << QStringLiteral("ok") << QStringList{QStringLiteral("--device"), QStringLiteral("cuda")} << 2 << "cuda";
        QTest::newRow("tokenizer of another vocabulary")
            << QStringLiteral("ok")
            << QStringList{QStringLiteral("--tokenizer"),
                   sourceDir() + QStringLiteral("/tests/fixtures/tokenizers/gpt2.json")}
            << 3 << "512";
        QTest::newRow("block that does not exist")
            << QStringLiteral("ok") << QStringList{QStringLiteral("--skip-block"), QStringLiteral("7")} << 2
            << "does not exist";
        QTest::newRow("text too short for a window")
            << QStringLiteral("Once upon a time.") << QStringList{} << 2 << "too few";
    }

    void evalBadInput()
    {
        QFETCH(QString, textContent);
        QFETCH(QStringList, extra);
        QFETCH(int, code);
        QFETCH(QString, message);
        BLOCKSCOPE_REQUIRE_DATA(model, "models/stories260K/stories260K.bin");
        const QString text = freshTempDir(QStringLiteral("cli-eval-bad")) + QStringLiteral("/text.txt");
        QByteArray bytes = textContent.toUtf8();
        if (textContent.startsWith(QStringLiteral("latin1:")))
            bytes = QByteArray("caf\xe9 \xe9t\xe9 ok");
        else if (textContent == QStringLiteral("ok"))
            bytes = readFile(sharedFile(QStringLiteral("text/tinystories_valid_head.txt"))).left(20000);
        writeFile(text, bytes);
        const auto r = runCli(QStringList{QStringLiteral("eval"), model, QStringLiteral("--text"), text,
                                  QStringLiteral("--max-windows"), QStringLiteral("1")}
            + extra);
        QCOMPARE(r.exitCode, code);
        QVERIFY2(QString::fromUtf8(r.err).contains(message, Qt::CaseInsensitive), r.err.constData());
        QVERIFY(r.out.isEmpty());
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
