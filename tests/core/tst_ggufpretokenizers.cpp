// The llama.cpp pre-tokenizer names (tokenizer.ggml.pre) against Hugging Face tokenizers: SmolLM2's
// byte-level vocabulary with each name's normaliser and pre-tokeniser encodes the corpus of
// tests/fixtures/make_pretokenizer_fixtures.py to the same ids.
#include "common/formaterror.h"
#include "model/checkpointreaders.h"
#include "model/ggufmetadata.h"
#include "testdata.h"
#include "text/ggufvocab.h"
#include "text/tokenizer.h"

#include <QFile>
#include <QTest>

#include <nlohmann/json.hpp>

using namespace blockscope;
using namespace blockscope::test;

namespace {

const nlohmann::json &fixture()
{
    static const nlohmann::json j
        = nlohmann::json::parse(fixtureBytes(QStringLiteral("tokenizers/gguf_pretokenizers.json")).toStdString());
    return j;
}

QString idList(const std::vector<std::int32_t> &ids)
{
    QStringList s;
    for (auto i : ids)
        s << QString::number(i);
    return s.join(QLatin1Char(' '));
}

} // namespace

class TestGgufPreTokenizers : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void equalsHuggingFace_data()
    {
        QTest::addColumn<QString>("pre");
        for (const auto &[name, ids] : fixture().at("ids").items())
            QTest::newRow(name.c_str()) << QString::fromStdString(name);
        // The names the issue asks for are all in the fixture.
        for (const char *n : {"smollm", "llama-bpe", "qwen2", "gpt-2", "starcoder", "refact", "command-r",
                 "deepseek-llm", "deepseek-coder", "falcon", "tekken"})
            if (!fixture().at("ids").contains(n))
                qFatal("fixture lacks %s", n);
    }

    void equalsHuggingFace()
    {
        QFETCH(QString, pre);
        BLOCKSCOPE_REQUIRE_SMOLLM2(path);
        GgufMetadata meta = readGgufMetadata(path.toStdString());
        meta.values["tokenizer.ggml.pre"].s = pre.toStdString();
        const auto tok = ggufTokenizer(meta, path.toStdString());
        const auto &corpus = fixture().at("corpus");
        const auto &expected = fixture().at("ids").at(pre.toStdString());
        QCOMPARE(expected.size(), corpus.size());
        for (std::size_t k = 0; k < corpus.size(); ++k) {
            const std::string text = corpus[k].at("text").get<std::string>();
            const auto want = expected[k].get<std::vector<std::int32_t>>();
            const auto got = tok->encode(text);
            QVERIFY2(got == want,
                qPrintable(QStringLiteral("%1, text \"%2\":\n  ours %3\n  HF   %4")
                               .arg(pre, QString::fromStdString(corpus[k].at("name").get<std::string>()), idList(got),
                                   idList(want))));
            // Byte-level BPE decodes back to the text it encoded (normalisation aside; decode drops
            // special tokens, as Hugging Face's skip_special_tokens does).
            const bool normalises = pre == QLatin1String("qwen2") || pre == QLatin1String("command-r")
                || pre == QLatin1String("deepseek-r1-qwen");
            if (!normalises && text.find("<|im_") == std::string::npos)
                QCOMPARE(QString::fromStdString(tok->decode(got)), QString::fromStdString(text));
        }
    }

    void smolLm2FileNamesItsPreTokenizer()
    {
        BLOCKSCOPE_REQUIRE_SMOLLM2(path);
        const GgufMetadata meta = readGgufMetadata(path.toStdString());
        QCOMPARE(QString::fromStdString(meta.find("tokenizer.ggml.pre")->s), QStringLiteral("smollm"));
        const auto tok = ggufTokenizer(meta, path.toStdString());
        QCOMPARE(tok->vocabSize(), std::int64_t(49152));
        // SmolLM2 splits digits one by one before the GPT-2 regex.
        const auto ids = tok->encode("2024");
        QCOMPARE(ids.size(), std::size_t(4));
    }

    void unknownNameIsRefused()
    {
        BLOCKSCOPE_REQUIRE_SMOLLM2(path);
        GgufMetadata meta = readGgufMetadata(path.toStdString());
        meta.values["tokenizer.ggml.pre"].s = "jais-unheard-of";
        try {
            ggufTokenizer(meta, path.toStdString());
            QFAIL("an unknown pre-tokenizer was accepted");
        } catch (const FormatError &e) {
            const QString what = QString::fromUtf8(e.what());
            QVERIFY2(what.contains(QStringLiteral("tokenizer.ggml.pre"))
                    && what.contains(QStringLiteral("jais-unheard-of")) && what.contains(path),
                e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestGgufPreTokenizers)
#include "tst_ggufpretokenizers.moc"
