#include "common/formaterror.h"
#include "hostile.h"
#include "model/modelhandle.h"
#include "testdata.h"
#include "text/llama2cvocab.h"

#include <QTest>

using namespace blockscope;
using namespace blockscope::test;

class TestLlama2cReader : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void stories260K()
    {
        BLOCKSCOPE_REQUIRE_DATA(path, "models/stories260K/stories260K.bin");
        auto m = ModelHandle::open(path.toStdString());
        const Architecture &a = m->architecture();
        QCOMPARE(a.hidden, 64);
        QCOMPARE(a.intermediate, 172);
        QCOMPARE(a.layers, 5);
        QCOMPARE(a.heads, 8);
        QCOMPARE(a.kvHeads, 4);
        QCOMPARE(a.vocab, 512);
        QCOMPARE(a.context, 512);
        QCOMPARE(a.headDim, 8);
        QVERIFY(a.tiedEmbeddings);
        QCOMPARE(a.ropeLayout, RopeLayout::Interleaved);
        QCOMPARE(m->parameterCount(), std::uint64_t(260032));
        QVERIFY(m->tokenizer().has_value());
        QCOMPARE(m->tokenizer()->size, 512);
        QCOMPARE(m->blockTensors(2, TensorRole::Attention).size(), std::size_t(5)); // norm + q k v o
        QCOMPARE(m->blockTensors(2, TensorRole::Mlp).size(), std::size_t(4)); // norm + gate up down
        const TensorInfo *norm = m->find("model.norm.weight");
        QVERIFY(norm);
        // rms_final sits right before the two RoPE tables, which are skipped.
        QCOMPARE(norm->offset + norm->bytes + 4ull * 512 * 8, std::uint64_t(1056540));
    }

    void tokenizerFile()
    {
        BLOCKSCOPE_REQUIRE_DATA(path, "models/stories260K/tok512.bin");
        const auto v = Llama2cVocab::load(path.toStdString(), 512);
        QCOMPARE(v.maxTokenLength, 7);
        QCOMPARE(v.pieces.size(), std::size_t(512));
        QCOMPARE(QByteArray::fromStdString(v.pieces[1]), QByteArray("\n<s>\n"));
        QCOMPARE(QByteArray::fromStdString(v.pieces[2]), QByteArray("\n</s>\n"));
        QCOMPARE(QByteArray::fromStdString(v.pieces[3]), QByteArray("<0x00>"));
        QVERIFY(v.warnings.empty());
    }

    void hostileHeader_data()
    {
        QTest::addColumn<QByteArray>("header");
        QTest::addColumn<QString>("expect");
        auto header = [](std::initializer_list<qint32> v) {
            QByteArray b;
            for (qint32 x : v)
                b.append(reinterpret_cast<const char *>(&x), 4);
            return b;
        };
        QTest::newRow("shorter than header") << QByteArray(20, '\0') << "truncated";
        QTest::newRow("zero dim") << header({0, 172, 5, 8, 4, 512, 512}) << "dim";
        QTest::newRow("negative layers") << header({64, 172, -5, 8, 4, 512, 512}) << "n_layers";
        QTest::newRow("zero vocab") << header({64, 172, 5, 8, 4, 0, 512}) << "vocab_size";
        QTest::newRow("dim not divisible by heads") << header({63, 172, 5, 8, 4, 512, 512}) << "dim";
        QTest::newRow("kv heads do not divide heads") << header({64, 172, 5, 8, 3, 512, 512}) << "n_kv_heads";
        QTest::newRow("odd head size") << header({24, 172, 5, 8, 4, 512, 512}) << "n_heads";
        QTest::newRow("layers beyond cap") << header({64, 172, 5000, 8, 4, 512, 512}) << "n_layers";
        QTest::newRow("size formula overflows")
            << header({1 << 30, 1 << 30, 1000, 1024, 1024, 4000000, 1 << 24}) << "dim";
        QTest::newRow("file shorter than header implies") << header({64, 172, 5, 8, 4, 512, 512}) << "file size";
        QTest::newRow("ak42 magic") << header({0x616b3432, 1, 0, 0, 0, 0, 0}) << "version";
    }

    void hostileHeader()
    {
        QFETCH(QByteArray, header);
        QFETCH(QString, expect);
        const QString dir = freshTempDir(QStringLiteral("llama2c-hostile"));
        const QString path = dir + QStringLiteral("/model.bin");
        writeFile(path, header);
        std::string message;
        QCOMPARE(tryOpen(path.toStdString(), &message), OpenOutcome::FormatError);
        QVERIFY2(QString::fromStdString(message).contains(expect), message.c_str());
        QVERIFY2(QString::fromStdString(message).contains(path), message.c_str());
    }

    void trailingBytesRefused()
    {
        BLOCKSCOPE_REQUIRE_DATA(src, "models/stories260K/stories260K.bin");
        const QString dir = freshTempDir(QStringLiteral("llama2c-trailing"));
        writeFile(dir + QStringLiteral("/m.bin"), readFile(src) + QByteArray(4, '\0'));
        std::string message;
        QCOMPARE(tryOpen((dir + QStringLiteral("/m.bin")).toStdString(), &message), OpenOutcome::FormatError);
        QVERIFY2(QString::fromStdString(message).contains(QStringLiteral("trailing")), message.c_str());
    }

    void hostileTokenizer_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expect");
        QTest::addColumn<int>("vocab");
        auto rec = [](float score, qint32 len, QByteArray s) {
            QByteArray b(reinterpret_cast<const char *>(&score), 4);
            b.append(reinterpret_cast<const char *>(&len), 4);
            return b + s;
        };
        auto i32 = [](qint32 v) { return QByteArray(reinterpret_cast<const char *>(&v), 4); };
        QTest::newRow("max length zero") << i32(0) << "max_token_length" << 1;
        QTest::newRow("max length huge") << i32(5000) << "max_token_length" << 1;
        QTest::newRow("negative length") << i32(4) + rec(0, -1, "") << "length" << 1;
        QTest::newRow("length above max") << i32(4) + rec(0, 9, "abcdefghi") << "length" << 1;
        QTest::newRow("record past end") << i32(4) + rec(0, 4, "ab") << "token 0" << 1;
        QTest::newRow("non-finite score")
            << i32(4) + rec(std::numeric_limits<float>::quiet_NaN(), 1, "a") << "score" << 1;
        QTest::newRow("fewer records than vocab") << i32(4) + rec(0, 1, "a") << "cannot fit" << 512;
    }

    void hostileTokenizer()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expect);
        QFETCH(int, vocab);
        const QString path = freshTempDir(QStringLiteral("tok-hostile")) + QStringLiteral("/tok.bin");
        writeFile(path, bytes);
        try {
            Llama2cVocab::load(path.toStdString(), vocab);
            QFAIL("a damaged tokenizer.bin was accepted");
        } catch (const FormatError &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(expect), e.what());
        }
    }

    void truncationsAndFlips()
    {
        BLOCKSCOPE_REQUIRE_DATA(src, "models/stories260K/stories260K.bin");
        const QByteArray bytes = readFile(src);
        const QString dir = freshTempDir(QStringLiteral("llama2c-mutate"));
        const QString path = dir + QStringLiteral("/stories.bin");
        int opened = 0;
        const int n = mutateAndCheck(
            bytes, path, 256, 256, 1234u, [&] { opened += tryOpen(path.toStdString()) == OpenOutcome::Opened; });
        Q_UNUSED(n);
        QVERIFY(opened > 0); // flips inside the weights still open
    }
};

QTEST_GUILESS_MAIN(TestLlama2cReader)
#include "tst_llama2creader.moc"
