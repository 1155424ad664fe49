// SentencePiece .model through libsentencepiece (formats.md §3): the stories260K golden ids, the
// byte-for-byte conversion to tok512.bin, the tokenizer.json built from it, agreement of all
// implementations on the normalised tiny-ts paragraphs (pruning.md §2), and damaged files.
#include "common/formaterror.h"
#include "hostile.h"
#include "testdata.h"
#include "text/corpus.h"
#include "text/hftokenizer.h"
#include "text/llama2ctokenizer.h"
#include "text/sentencepiecetokenizer.h"

#include <QFile>
#include <QTest>

#include <nlohmann/json.hpp>

using namespace blockscope;
using namespace blockscope::test;

namespace {
std::vector<std::int32_t> goldenIds(const QString &path)
{
    std::vector<std::int32_t> ids;
    for (const auto &s : QString::fromLatin1(readFile(path)).trimmed().split(QLatin1Char(' ')))
        ids.push_back(s.toInt());
    return ids;
}

std::vector<std::int32_t> withBos(std::int32_t bos, const std::vector<std::int32_t> &ids)
{
    std::vector<std::int32_t> out{bos};
    out.insert(out.end(), ids.begin(), ids.end());
    return out;
}
} // namespace

class TestSentencePiece : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void facts()
    {
        BLOCKSCOPE_REQUIRE_DATA(model, "models/stories260K/tok512.model");
        const auto sp = SentencePieceTokenizer::load(model.toStdString());
        using Kind = SentencePieceTokenizer::PieceKind;
        QCOMPARE(sp->vocabSize(), 512);
        QCOMPARE(sp->bosId(), std::optional<std::int32_t>(1));
        QCOMPARE(sp->eosId(), std::optional<std::int32_t>(2));
        QCOMPARE(sp->unkId(), std::optional<std::int32_t>(0));
        QCOMPARE(sp->kind(0), Kind::Unknown);
        QCOMPARE(sp->kind(1), Kind::Control);
        QCOMPARE(sp->kind(3), Kind::Byte);
        QCOMPARE(sp->kind(258), Kind::Byte);
        QCOMPARE(sp->kind(259), Kind::Normal);
        QCOMPARE(sp->piece(3), std::string("<0x00>"));
        QCOMPARE(sp->score(260), -1.0f);
        QVERIFY(QString::fromStdString(sp->description()).contains(QStringLiteral("tok512.model")));
    }

    void storiesGolden()
    {
        BLOCKSCOPE_REQUIRE_DATA(model, "models/stories260K/tok512.model");
        BLOCKSCOPE_REQUIRE_DATA(golden, "golden/stories260K.tokens.txt");
        BLOCKSCOPE_REQUIRE_DATA(textPath, "text/tinystories_valid_head.txt");
        const auto sp = SentencePieceTokenizer::load(model.toStdString());
        const auto paragraph = tinyTsParagraphs(readTextFile(textPath.toStdString())).at(0);
        const auto ids = withBos(*sp->bosId(), sp->encode(paragraph));
        QCOMPARE(ids, goldenIds(golden));
        QCOMPARE(sp->decode(ids), paragraph);
    }

    void convertsToTok512BinByteForByte()
    {
        BLOCKSCOPE_REQUIRE_DATA(model, "models/stories260K/tok512.model");
        BLOCKSCOPE_REQUIRE_DATA(bin, "models/stories260K/tok512.bin");
        const auto sp = SentencePieceTokenizer::load(model.toStdString());
        const QByteArray converted = QByteArray::fromStdString(sentencePieceToLlama2c(*sp));
        QCOMPARE(converted.size(), 6227);
        QCOMPARE(converted, readFile(bin));
    }

    // pruning.md §2: after the tiny-ts normalisation, llama2.c's encoder, libsentencepiece and the
    // tokenizer.json converted from the .model give the same ids on every paragraph.
    void implementationsAgreeOnTinyTs()
    {
        BLOCKSCOPE_REQUIRE_DATA(model, "models/stories260K/tok512.model");
        BLOCKSCOPE_REQUIRE_DATA(bin, "models/stories260K/tok512.bin");
        BLOCKSCOPE_REQUIRE_DATA(textPath, "text/tinystories_valid_head.txt");
        const auto sp = SentencePieceTokenizer::load(model.toStdString());
        const auto l2c = Llama2cTokenizer::load(bin.toStdString(), 512);
        const auto json = HfTokenizer::fromJson(sentencePieceToTokenizerJson(*sp), "tok512-converted.json");
        QCOMPARE(json->postPrefix(), std::vector<std::int32_t>{1});
        QCOMPARE(json->vocabSize(), 512);
        const auto paragraphs = tinyTsParagraphs(readTextFile(textPath.toStdString()));
        QCOMPARE(paragraphs.size(), std::size_t(4300));
        std::size_t tokens = 0;
        for (std::size_t i = 0; i < paragraphs.size(); ++i) {
            const auto ref = sp->encode(paragraphs[i]);
            tokens += ref.size();
            if (l2c->encode(paragraphs[i]) != ref || json->encode(paragraphs[i]) != ref)
                QFAIL(qPrintable(QStringLiteral("paragraph %1 differs").arg(i)));
        }
        QVERIFY(tokens > 300000);
        // The converted tokenizer.json decodes like the library.
        const auto ids = withBos(1, sp->encode(paragraphs[7]));
        QCOMPARE(json->decode(ids), sp->decode(ids));
    }

    // Outside the normalised texts the implementations differ, which is why protocol cards name
    // the one used: libsentencepiece collapses and strips spaces, llama2.c keeps them.
    void whitespaceDiffers()
    {
        BLOCKSCOPE_REQUIRE_DATA(model, "models/stories260K/tok512.model");
        BLOCKSCOPE_REQUIRE_DATA(bin, "models/stories260K/tok512.bin");
        const auto sp = SentencePieceTokenizer::load(model.toStdString());
        const auto l2c = Llama2cTokenizer::load(bin.toStdString(), 512);
        QCOMPARE(sp->encode("a  cat "), sp->encode("a cat"));
        QVERIFY(l2c->encode("a  cat ") != l2c->encode("a cat"));
    }

    // Recorded behaviour (formats.md §3): the library accepts invalid UTF-8 and does not throw.
    void invalidUtf8IsTheLibrarysBusiness()
    {
        BLOCKSCOPE_REQUIRE_DATA(model, "models/stories260K/tok512.model");
        const auto sp = SentencePieceTokenizer::load(model.toStdString());
        const auto ids = sp->encode("a\xFF"
                                    "b");
        QVERIFY(!ids.empty());
        QString list;
        for (auto id : ids)
            list += QString::number(id) + QLatin1Char(' ');
        qInfo("libsentencepiece encodes \"a\\xFFb\" as %s", qPrintable(list));
        QVERIFY_THROWS_EXCEPTION(UsageError, sp->decode(std::vector<std::int32_t>{512}));
    }

    void hostile_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expect");
        QTest::newRow("empty file") << QByteArray() << "libsentencepiece";
        QTest::newRow("not a protobuf") << QByteArray("this is not a model\n") << "libsentencepiece";
        QTest::newRow("gguf bytes") << QByteArray("GGUF\x03\0\0\0", 8) << "libsentencepiece";
    }

    void hostile()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expect);
        const QString path = freshTempDir(QStringLiteral("spm-hostile")) + QStringLiteral("/tokenizer.model");
        writeFile(path, bytes);
        try {
            SentencePieceTokenizer::load(path.toStdString());
            QFAIL("accepted");
        } catch (const FormatError &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(expect), e.what());
        }
    }

    void fileOver64MiB()
    {
        const QString path = freshTempDir(QStringLiteral("spm-big")) + QStringLiteral("/tokenizer.model");
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        QVERIFY(f.resize(65ll << 20));
        f.close();
        QVERIFY_THROWS_EXCEPTION(FormatError, SentencePieceTokenizer::load(path.toStdString()));
    }

    // Every truncation and flip either loads or ends in a FormatError with the library's status.
    void damagedModel()
    {
        BLOCKSCOPE_REQUIRE_DATA(model, "models/stories260K/tok512.model");
        const QString path = freshTempDir(QStringLiteral("spm-mutate")) + QStringLiteral("/tok.model");
        int refused = 0, loaded = 0;
        mutateAndCheck(readFile(model), path, 256, 256, 11u, [&] {
            try {
                const auto sp = SentencePieceTokenizer::load(path.toStdString());
                sp->encode("Once upon a time");
                ++loaded;
            } catch (const FormatError &) {
                ++refused;
            }
        });
        QVERIFY(refused > 0);
        QVERIFY(loaded > 0);
    }
};

QTEST_GUILESS_MAIN(TestSentencePiece)
#include "tst_sentencepiece.moc"
