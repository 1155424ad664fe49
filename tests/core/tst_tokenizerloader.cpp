// loadTokenizerFor and GGUF vocabularies: every stories260K tokenizer gives the golden ids, a
// tokenizer that does not fit the model is refused naming both sizes, byte-level GGUF vocabularies
// equal their tokenizer.json, and the GGUF tokenizer keys' hostile-input checklist (formats.md §4).
#include "common/formaterror.h"
#include "ggufbuilder.h"
#include "hostile.h"
#include "model/checkpointreaders.h"
#include "model/ggufmetadata.h"
#include "model/modelhandle.h"
#include "testdata.h"
#include "text/corpus.h"
#include "text/ggufvocab.h"
#include "text/llama2ctokenizer.h"

#include <QDir>
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

QString fixture(const QString &name)
{
    return sourceDir() + QStringLiteral("/tests/fixtures/tokenizers/") + name;
}

nlohmann::json readJson(const QString &path)
{
    return nlohmann::json::parse(readFile(path).toStdString());
}

// A metadata-only GGUF holding the vocabulary of a byte-level tokenizer.json fixture.
GgufBuilder ggufFromTokenizerJson(const nlohmann::json &doc, const QByteArray &pre)
{
    std::map<std::int64_t, std::pair<std::string, std::int32_t>> byId; // token, type
    for (const auto &[token, id] : doc.at("model").at("vocab").items())
        byId[id.get<std::int64_t>()] = {token, 1};
    for (const auto &a : doc.at("added_tokens"))
        byId[a.at("id").get<std::int64_t>()]
            = {a.at("content").get<std::string>(), a.at("special").get<bool>() ? 3 : 4};
    QList<QByteArray> tokens, merges;
    std::vector<std::int32_t> types;
    for (const auto &[id, t] : byId) {
        tokens << QByteArray::fromStdString(t.first);
        types.push_back(t.second);
    }
    for (const auto &m : doc.at("model").at("merges"))
        merges << QByteArray::fromStdString(
            m.is_string() ? m.get<std::string>() : m[0].get<std::string>() + " " + m[1].get<std::string>());
    GgufBuilder g;
    g.addString("tokenizer.ggml.model", "gpt2");
    g.addString("tokenizer.ggml.pre", pre);
    g.addStringArray("tokenizer.ggml.tokens", tokens);
    g.addI32Array("tokenizer.ggml.token_type", types);
    g.addStringArray("tokenizer.ggml.merges", merges);
    return g;
}

std::unique_ptr<Tokenizer> ggufTokenizerOf(const QByteArray &bytes)
{
    const QString path = freshTempDir(QStringLiteral("gguf-vocab")) + QStringLiteral("/vocab.gguf");
    writeFile(path, bytes);
    return ggufTokenizer(readGgufMetadata(path.toStdString()), path.toStdString());
}

// A "llama" vocabulary: unk, <s>, </s>, 256 byte tokens, then a few pieces.
GgufBuilder llamaVocab()
{
    QList<QByteArray> tokens{"<unk>", "<s>", "</s>"};
    std::vector<float> scores{0, 0, 0};
    std::vector<std::int32_t> types{2, 3, 3};
    for (int b = 0; b < 256; ++b) {
        tokens << QByteArray("<0x") + QByteArray::number(b, 16).toUpper().rightJustified(2, '0') + ">";
        scores.push_back(0);
        types.push_back(6);
    }
    for (const char *p : {"\xE2\x96\x81", "a", "b",
             "\xE2\x96\x81"
             "a",
             "ab"}) {
        tokens << p;
        scores.push_back(-static_cast<float>(scores.size()));
        types.push_back(1);
    }
    GgufBuilder g;
    g.addString("tokenizer.ggml.model", "llama");
    g.addStringArray("tokenizer.ggml.tokens", tokens);
    g.addF32Array("tokenizer.ggml.scores", scores);
    g.addI32Array("tokenizer.ggml.token_type", types);
    g.addU32("tokenizer.ggml.bos_token_id", 1);
    g.addU32("tokenizer.ggml.eos_token_id", 2);
    return g;
}

} // namespace

class TestTokenizerLoader : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void storiesGolden_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("tokenizer");
        QTest::addColumn<QString>("kind");
        QTest::newRow("llama2.c model, tok512.bin beside it") << "stories260K.bin"
                                                              << ""
                                                              << "llama2.c";
        QTest::newRow("llama2.c model, explicit tok512.model") << "stories260K.bin"
                                                               << "tok512.model"
                                                               << "SentencePiece";
        QTest::newRow("GGUF embedded vocabulary") << "stories260K.gguf"
                                                  << ""
                                                  << "GGUF";
    }

    void storiesGolden()
    {
        QFETCH(QString, model);
        QFETCH(QString, tokenizer);
        QFETCH(QString, kind);
        BLOCKSCOPE_REQUIRE_DATA(modelPath, QStringLiteral("models/stories260K/") + model);
        BLOCKSCOPE_REQUIRE_DATA(golden, "golden/stories260K.tokens.txt");
        BLOCKSCOPE_REQUIRE_DATA(textPath, "text/tinystories_valid_head.txt");
        const auto m = ModelHandle::open(modelPath.toStdString());
        const std::string explicitPath = tokenizer.isEmpty()
            ? std::string()
            : sharedFile(QStringLiteral("models/stories260K/") + tokenizer).toStdString();
        const auto t = loadTokenizerFor(*m, explicitPath);
        QVERIFY2(QString::fromStdString(t->description()).contains(kind), t->description().c_str());
        QCOMPARE(t->vocabSize(), 512);
        QCOMPARE(t->bosId(), std::optional<std::int32_t>(1));
        QCOMPARE(t->eosId(), std::optional<std::int32_t>(2));
        QVERIFY(t->addBos());
        const auto paragraph = tinyTsParagraphs(readTextFile(textPath.toStdString())).at(0);
        std::vector<std::int32_t> ids{*t->bosId()};
        const auto body = t->encode(paragraph);
        ids.insert(ids.end(), body.begin(), body.end());
        QCOMPARE(ids, goldenIds(golden));
        QCOMPARE(t->decode(ids), paragraph);
    }

    // The GGUF's embedded tok512 vocabulary and tok512.bin agree on every tiny-ts paragraph.
    void ggufEqualsTok512OnTinyTs()
    {
        BLOCKSCOPE_REQUIRE_DATA(gguf, "models/stories260K/stories260K.gguf");
        BLOCKSCOPE_REQUIRE_DATA(bin, "models/stories260K/tok512.bin");
        BLOCKSCOPE_REQUIRE_DATA(textPath, "text/tinystories_valid_head.txt");
        const auto g = ggufTokenizer(readGgufMetadata(gguf.toStdString()), gguf.toStdString());
        const auto l = Llama2cTokenizer::load(bin.toStdString(), 512);
        const auto paragraphs = tinyTsParagraphs(readTextFile(textPath.toStdString()));
        for (std::size_t i = 0; i < paragraphs.size(); ++i)
            if (g->encode(paragraphs[i]) != l->encode(paragraphs[i]))
                QFAIL(qPrintable(QStringLiteral("paragraph %1 differs").arg(i)));
    }

    void ggufByteLevel_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("pre");
        QTest::newRow("gpt2") << "gpt2" << QByteArray("gpt2");
        QTest::newRow("llama3") << "llama3" << QByteArray("llama-bpe");
    }

    // A GGUF "gpt2" vocabulary built from a fixture gives the fixture's reference ids. Lines with
    // added tokens that carry lstrip/single_word are left out: GGUF has no such flags.
    void ggufByteLevel()
    {
        QFETCH(QString, name);
        QFETCH(QByteArray, pre);
        const auto doc = readJson(fixture(name + QStringLiteral(".json")));
        const auto t = ggufTokenizerOf(ggufFromTokenizerJson(doc, pre).build());
        QVERIFY(QString::fromStdString(t->description()).contains(QStringLiteral("GGUF")));
        const auto ref = readJson(fixture(QStringLiteral("reference.json")));
        const auto &ids = ref.at("tokenizers").at(name.toStdString()).at("ids");
        int compared = 0;
        for (std::size_t i = 0; i < ref.at("corpus").size(); ++i) {
            const auto &entry = ref.at("corpus")[i];
            const std::string hex = entry.at("hex").get<std::string>();
            std::string text;
            for (std::size_t k = 0; k + 1 < hex.size(); k += 2)
                text += static_cast<char>(std::stoi(hex.substr(k, 2), nullptr, 16));
            if (!entry.at("valid").get<bool>() || text.find("[MASK]") != std::string::npos)
                continue;
            QCOMPARE(t->encode(text), ids[i].get<std::vector<std::int32_t>>());
            ++compared;
        }
        QVERIFY(compared > 25);
    }

    void ggufLlamaRules()
    {
        const auto t = ggufTokenizerOf(llamaVocab().build());
        // 259 "▁", 260 "a", 261 "b", 262 "▁a", 263 "ab"; space prefix on, bytes by token_type 6.
        QCOMPARE(t->encode("a b"), (std::vector<std::int32_t>{262, 259, 261}));
        QCOMPARE(t->encode("\xC3\xA9"), (std::vector<std::int32_t>{259, 0xC3 + 3, 0xA9 + 3}));
        QCOMPARE(
            t->decode(std::vector<std::int32_t>{1, 262, 259, 261, 0xC3 + 3, 0xA9 + 3}), std::string("a b\xC3\xA9"));
        QVERIFY(t->addBos());
    }

    void vocabularyMustFitTheModel_data()
    {
        QTest::addColumn<QString>("tokenizer");
        QTest::addColumn<QString>("size");
        QTest::newRow("tokenizer.json larger than the model") << fixture(QStringLiteral("gpt2.json")) << "701";
        QTest::newRow("SentencePiece model of another size")
            << sharedFile(QStringLiteral("models/stories260K/tok512.model")) << "512";
    }

    void vocabularyMustFitTheModel()
    {
        QFETCH(QString, tokenizer);
        QFETCH(QString, size);
        if (tokenizer.isEmpty())
            QSKIP("test data not found");
        const QString path = freshTempDir(QStringLiteral("tok-fit")) + QStringLiteral("/tiny.gguf");
        writeFile(path, tinyLlamaGguf().build());
        const auto m = ModelHandle::open(path.toStdString());
        try {
            loadTokenizerFor(*m, tokenizer.toStdString());
            QFAIL("a tokenizer larger than the model was accepted");
        } catch (const FormatError &e) {
            const QString msg = QString::fromUtf8(e.what());
            QVERIFY2(msg.contains(size) && msg.contains(QStringLiteral("16")), e.what());
        }
    }

    void hfFolderUsesConfigIds()
    {
        const QString src = sourceDir() + QStringLiteral("/tests/fixtures/models/llama_gqa_untied");
        const QString dir = freshTempDir(QStringLiteral("tok-hf-folder"));
        for (const char *f : {"config.json", "model.safetensors"})
            QVERIFY(QFile::copy(src + QLatin1Char('/') + QLatin1String(f), dir + QLatin1Char('/') + QLatin1String(f)));
        writeFile(
            dir + QStringLiteral("/tokenizer.json"), R"({"added_tokens": [{"id": 1, "content": "<s>", "special": true},
            {"id": 2, "content": "</s>", "special": true}],
            "model": {"type": "BPE", "vocab": {"a": 0, "<s>": 1, "</s>": 2, "b": 3, "ab": 4}, "merges": ["a b"]}})");
        const auto m = ModelHandle::open(dir.toStdString());
        const auto t = loadTokenizerFor(*m);
        QCOMPARE(t->encode("ab"), std::vector<std::int32_t>{4});
        QCOMPARE(t->bosId(), std::optional<std::int32_t>(1));
        QVERIFY(!t->addBos());
    }

    void noTokenizerIsAUsageError()
    {
        const QString path = freshTempDir(QStringLiteral("tok-none")) + QStringLiteral("/bare.gguf");
        GgufBuilder g = tinyLlamaGguf();
        for (const char *k : {"tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.scores",
                 "tokenizer.ggml.token_type", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"})
            g.removeKey(k);
        g.addU32("llama.vocab_size", 16);
        writeFile(path, g.build());
        const auto m = ModelHandle::open(path.toStdString());
        QVERIFY_THROWS_EXCEPTION(UsageError, loadTokenizerFor(*m));
        QVERIFY_THROWS_EXCEPTION(UsageError, loadTokenizerFor(*m, "/nonexistent/tokenizer.json"));
    }

    void hostileGguf_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expect");
        auto edited = [](auto edit) {
            GgufBuilder g = llamaVocab();
            edit(g);
            return g.build();
        };
        QTest::newRow("unknown model") << edited([](GgufBuilder &g) {
            g.removeKey("tokenizer.ggml.model");
            g.addString("tokenizer.ggml.model", "bert");
        }) << "\"bert\"";
        QTest::newRow("scores missing") << edited([](GgufBuilder &g) { g.removeKey("tokenizer.ggml.scores"); })
                                        << "tokenizer.ggml.scores";
        QTest::newRow("scores of another length") << edited([](GgufBuilder &g) {
            g.removeKey("tokenizer.ggml.scores");
            g.addF32Array("tokenizer.ggml.scores", {0, 1});
        }) << "tokenizer.ggml.scores";
        QTest::newRow("token types of another length") << edited([](GgufBuilder &g) {
            g.removeKey("tokenizer.ggml.token_type");
            g.addI32Array("tokenizer.ggml.token_type", {1});
        }) << "tokenizer.ggml.token_type";
        QTest::newRow("tokens not strings") << edited([](GgufBuilder &g) {
            g.removeKey("tokenizer.ggml.tokens");
            g.addI32Array("tokenizer.ggml.tokens", {1, 2});
        }) << "tokenizer.ggml.tokens";
        QTest::newRow("byte token misnamed") << edited([](GgufBuilder &g) {
            g.removeKey("tokenizer.ggml.token_type");
            std::vector<std::int32_t> types(264, 6);
            g.addI32Array("tokenizer.ggml.token_type", types);
        }) << "<0xHH>";
        QTest::newRow("bos out of range") << edited([](GgufBuilder &g) {
            g.removeKey("tokenizer.ggml.bos_token_id");
            g.addU32("tokenizer.ggml.bos_token_id", 5000);
        }) << "bos_token_id";
        QTest::newRow("add_bos_token not a bool")
            << edited([](GgufBuilder &g) { g.addU32("tokenizer.ggml.add_bos_token", 1); }) << "add_bos_token";
        QTest::newRow("gpt2 without merges") << edited([](GgufBuilder &g) {
            g.removeKey("tokenizer.ggml.model");
            g.addString("tokenizer.ggml.model", "gpt2");
        }) << "tokenizer.ggml.merges";
        QTest::newRow("gpt2 merge of unknown symbols") << edited([](GgufBuilder &g) {
            g.removeKey("tokenizer.ggml.model");
            g.addString("tokenizer.ggml.model", "gpt2");
            g.addStringArray("tokenizer.ggml.merges", {"x y"});
        }) << "not in the vocabulary";
        QTest::newRow("unsupported pre-tokenizer") << edited([](GgufBuilder &g) {
            g.removeKey("tokenizer.ggml.model");
            g.addString("tokenizer.ggml.model", "gpt2");
            g.addStringArray("tokenizer.ggml.merges", {});
            g.addString("tokenizer.ggml.pre", "no-such-pre-tokenizer");
        }) << "\"no-such-pre-tokenizer\"";
    }

    void hostileGguf()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expect);
        try {
            ggufTokenizerOf(bytes);
            QFAIL("accepted");
        } catch (const FormatError &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(expect), e.what());
        }
    }

    void damagedGguf()
    {
        BLOCKSCOPE_REQUIRE_DATA(gguf, "models/stories260K/stories260K.gguf");
        const QByteArray bytes = readFile(gguf).left(20000); // metadata lies in the first 14 KB
        const QString path = freshTempDir(QStringLiteral("gguf-vocab-mutate")) + QStringLiteral("/v.gguf");
        int loaded = 0, refused = 0;
        mutateAndCheck(bytes, path, 256, 256, 3u, [&] {
            try {
                ggufTokenizer(readGgufMetadata(path.toStdString()), path.toStdString())->encode("Once upon a time");
                ++loaded;
            } catch (const FormatError &) {
                ++refused;
            }
        });
        QVERIFY(loaded > 0);
        QVERIFY(refused > 0);
    }
};

QTEST_GUILESS_MAIN(TestTokenizerLoader)
#include "tst_tokenizerloader.moc"
