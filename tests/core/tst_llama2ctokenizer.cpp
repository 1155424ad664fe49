// llama2.c tokenizer.bin: encode and decode rules of formats.md §2, the stories260K golden ids, a
// naive reference for the priority-queue merge loop, and damaged files.
#include "common/formaterror.h"
#include "hostile.h"
#include "testdata.h"
#include "text/corpus.h"
#include "text/llama2ctokenizer.h"
#include "text/llama2cvocab.h"

#include <QElapsedTimer>
#include <QTest>

#include <random>
#include <set>

using namespace blockscope;
using namespace blockscope::test;

namespace {

// unk, BOS, EOS, the 256 byte tokens, then `extra` pieces with their scores.
Llama2cVocab vocabWith(const std::vector<std::pair<std::string, float>> &extra)
{
    Llama2cVocab v;
    v.pieces = {"<unk>", "\n<s>\n", "\n</s>\n"};
    v.scores = {0, 0, 0};
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        v.pieces.emplace_back(name);
        v.scores.push_back(0);
    }
    for (const auto &[p, s] : extra) {
        v.pieces.push_back(p);
        v.scores.push_back(s);
        v.maxTokenLength = std::max<std::int32_t>(v.maxTokenLength, static_cast<std::int32_t>(p.size()));
    }
    return v;
}

// llama2.c's own loop, O(n^2): rescan all pairs after every merge.
std::vector<std::int32_t> naiveEncode(const Llama2cVocab &v, const std::string &text)
{
    auto lookup = [&](const std::string &s) -> int {
        for (std::size_t i = 0; i < v.pieces.size(); ++i)
            if (v.pieces[i] == s)
                return static_cast<int>(i);
        return -1;
    };
    std::vector<std::int32_t> ids;
    const std::string t = " " + text;
    for (const char c : t) { // the tests use ASCII only
        const int id = lookup(std::string(1, c));
        ids.push_back(id >= 0 ? id : static_cast<unsigned char>(c) + 3);
    }
    while (true) {
        float best = -1e30f;
        int bestId = -1, bestIdx = -1;
        for (std::size_t i = 0; i + 1 < ids.size(); ++i) {
            const int id = lookup(v.pieces[ids[i]] + v.pieces[ids[i + 1]]);
            if (id >= 0 && v.scores[id] > best) {
                best = v.scores[id];
                bestId = id;
                bestIdx = static_cast<int>(i);
            }
        }
        if (bestIdx < 0)
            break;
        ids[bestIdx] = bestId;
        ids.erase(ids.begin() + bestIdx + 1);
    }
    return ids;
}

std::vector<std::int32_t> goldenIds(const QString &path)
{
    std::vector<std::int32_t> ids;
    for (const auto &s : QString::fromLatin1(readFile(path)).trimmed().split(QLatin1Char(' ')))
        ids.push_back(s.toInt());
    return ids;
}

} // namespace

class TestLlama2cTokenizer : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void encodeRules_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QList<int>>("expected");
        // 259 " ", 260 "a", 261 "aa", 262 "b", 263 "c", 264 "ab", 265 "bc", 266 " a"
        QTest::newRow("empty text has no dummy prefix") << QByteArray() << QList<int>{};
        QTest::newRow("dummy prefix merges") << QByteArray("a") << QList<int>{266};
        QTest::newRow("leftmost on equal scores") << QByteArray("aaa") << QList<int>{259, 261, 260};
        QTest::newRow("highest score first, then leftmost") << QByteArray("abc") << QList<int>{266, 265};
        QTest::newRow("byte fallback is byte + 3") << QByteArray("\xC3\xA9") << QList<int>{259, 0xC3 + 3, 0xA9 + 3};
        QTest::newRow("invalid bytes one at a time") << QByteArray("\xFF"
                                                                   "a")
                                                     << QList<int>{259, 0xFF + 3, 260};
        QTest::newRow("no whitespace normalisation") << QByteArray("  b") << QList<int>{259, 259, 259, 262};
    }

    void encodeRules()
    {
        QFETCH(QByteArray, text);
        QFETCH(QList<int>, expected);
        const Llama2cTokenizer t(
            vocabWith({{" ", -5}, {"a", -5}, {"aa", -1}, {"b", -5}, {"c", -5}, {"ab", -3}, {"bc", -2}, {" a", -2}}),
            "test.bin");
        const auto ids = t.encode(text.toStdString());
        QCOMPARE(QList<int>(ids.begin(), ids.end()), expected);
    }

    void decodeRules()
    {
        const Llama2cTokenizer t(vocabWith({{" ", -5}, {"a", -5}, {" a", -2}}), "test.bin");
        auto decode = [&](std::vector<std::int32_t> ids) { return QByteArray::fromStdString(t.decode(ids)); };
        QCOMPARE(decode({1, 261}), QByteArray("a")); // one leading space dropped after BOS
        QCOMPARE(decode({261, 261}), QByteArray(" a a")); // not otherwise
        QCOMPARE(decode({0, 2, 260}), QByteArray("a")); // ids 0-2 print nothing
        QCOMPARE(decode({0xC3 + 3, 0xA9 + 3}), QByteArray("\xC3\xA9"));
        QVERIFY_THROWS_EXCEPTION(UsageError, t.decode(std::vector<std::int32_t>{262}));
    }

    void mergeLoopMatchesNaive()
    {
        std::mt19937 rng(7);
        const std::string alphabet = "ab c";
        for (int round = 0; round < 40; ++round) {
            // A random vocabulary of short strings with random (often equal) scores.
            std::vector<std::pair<std::string, float>> extra;
            std::set<std::string> seen;
            for (const char c : alphabet)
                extra.push_back({std::string(1, c), -100});
            while (extra.size() < 30) {
                std::string s;
                for (int k = 2 + rng() % 3; k > 0; --k)
                    s += alphabet[rng() % alphabet.size()];
                if (seen.insert(s).second)
                    extra.push_back({s, -static_cast<float>(rng() % 5)});
            }
            Llama2cVocab v = vocabWith(extra);
            const Llama2cTokenizer t(v, "random.bin");
            for (int k = 0; k < 20; ++k) {
                std::string text;
                for (int n = rng() % 40; n > 0; --n)
                    text += alphabet[rng() % alphabet.size()];
                if (text.empty())
                    continue;
                QCOMPARE(t.encode(text), naiveEncode(v, text));
            }
        }
    }

    void storiesGolden()
    {
        BLOCKSCOPE_REQUIRE_DATA(tok, "models/stories260K/tok512.bin");
        BLOCKSCOPE_REQUIRE_DATA(golden, "golden/stories260K.tokens.txt");
        BLOCKSCOPE_REQUIRE_DATA(textPath, "text/tinystories_valid_head.txt");
        const auto t = Llama2cTokenizer::load(tok.toStdString(), 512);
        const auto paragraphs = tinyTsParagraphs(readTextFile(textPath.toStdString()));
        std::vector<std::int32_t> ids{*t->bosId()};
        const auto body = t->encode(paragraphs.at(0));
        ids.insert(ids.end(), body.begin(), body.end());
        const auto expected = goldenIds(golden);
        QCOMPARE(expected.size(), std::size_t(85));
        QCOMPARE(ids, expected);
        QCOMPARE(t->decode(ids), paragraphs.at(0));
        QVERIFY(t->addBos());
        QCOMPARE(t->vocabSize(), 512);
        QVERIFY(QString::fromStdString(t->description()).contains(QStringLiteral("tok512.bin")));
    }

    // The whole 800 KB file in one call: the merge loop must not be quadratic.
    void megabyteText()
    {
        BLOCKSCOPE_REQUIRE_DATA(tok, "models/stories260K/tok512.bin");
        BLOCKSCOPE_REQUIRE_DATA(textPath, "text/tinystories_valid_head.txt");
        const auto t = Llama2cTokenizer::load(tok.toStdString(), 512);
        const std::string text = readTextFile(textPath.toStdString());
        QElapsedTimer timer;
        timer.start();
        const auto ids = t->encode(text);
        qInfo("encoded %zu bytes into %zu tokens in %lld ms", text.size(), ids.size(), timer.elapsed());
        QVERIFY(ids.size() > text.size() / 8);
        QVERIFY(timer.elapsed() < 20000);
        std::vector<std::int32_t> withBos{1};
        withBos.insert(withBos.end(), ids.begin(), ids.end());
        QCOMPARE(t->decode(withBos), text);
    }

    void damagedFiles()
    {
        BLOCKSCOPE_REQUIRE_DATA(tok, "models/stories260K/tok512.bin");
        const QString path = freshTempDir(QStringLiteral("tok-mutate")) + QStringLiteral("/tok.bin");
        int loaded = 0, refused = 0;
        mutateAndCheck(readFile(tok), path, 256, 256, 99u, [&] {
            try {
                const auto t = Llama2cTokenizer::load(path.toStdString(), 512);
                t->encode("Once upon a time, a \xF0\x9F\x90\xB1 sat.");
                ++loaded;
            } catch (const FormatError &) {
                ++refused;
            }
        });
        QVERIFY(loaded > 0);
        QVERIFY(refused > 0);
    }
};

QTEST_GUILESS_MAIN(TestLlama2cTokenizer)
#include "tst_llama2ctokenizer.moc"
