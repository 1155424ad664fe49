// Cutting token streams into windows per protocol (pruning.md §2).
#include "eval/perplexity.h"
#include "eval/protocol.h"
#include "eval/textstreams.h"
#include "eval/windows.h"
#include "text/corpus.h"
#include "text/tokenizer.h"

#include <QTemporaryDir>
#include <QTest>
#include <fstream>
#include <numeric>
#include <set>

using namespace blockscope;

namespace {
// One token per byte: what a pool holds can be read back from its ids.
class ByteTokenizer : public Tokenizer
{
public:
    std::vector<std::int32_t> encode(std::string_view text) const override { return {text.begin(), text.end()}; }
    std::string decode(std::span<const std::int32_t> ids) const override { return {ids.begin(), ids.end()}; }
    std::int64_t vocabSize() const override { return 256; }
    std::optional<std::int32_t> bosId() const override { return 1; }
    std::optional<std::int32_t> eosId() const override { return 2; }
    bool addBos() const override { return false; }
    std::string description() const override { return "bytes"; }
};

std::string decoded(const TextStream &s)
{
    return std::string(s.ids.begin(), s.ids.end());
}

std::vector<std::int32_t> stream(int n)
{
    std::vector<std::int32_t> s(n);
    std::iota(s.begin(), s.end(), 100);
    return s;
}
} // namespace

class TestWindows : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void eachWindowBos()
    {
        Protocol p = protocolPreset("tiny-ts");
        p.context = p.stride = 8;
        const auto set = cutWindows(stream(30), p, 1);
        QCOMPARE(set.windows.size(), std::size_t(4)); // 30 / 7 full windows
        for (std::size_t w = 0; w < set.windows.size(); ++w) {
            QCOMPARE(set.windows[w].ids.size(), std::size_t(8));
            QCOMPARE(set.windows[w].ids[0], 1);
            QCOMPARE(set.windows[w].ids[1], std::int32_t(100 + 7 * w));
        }
        QCOMPARE(set.protocol.windows, 4);
        QCOMPARE(set.protocol.scoredTokens, 4 * 7);
    }

    void streamStartDropsTail()
    {
        Protocol p = protocolPreset("sleb");
        p.context = p.stride = 10;
        const auto set = cutWindows(stream(35), p, 1); // 36 tokens with BOS -> 3 windows, tail of 6 dropped
        QCOMPARE(set.windows.size(), std::size_t(3));
        QCOMPARE(set.windows[0].ids[0], 1);
        QCOMPARE(set.windows[1].ids[0], 109);
    }

    void stridedScoresEachTargetOnce_data()
    {
        QTest::addColumn<int>("n");
        QTest::addColumn<int>("T");
        QTest::addColumn<int>("S");
        QTest::newRow("half stride") << 50 << 16 << 8;
        QTest::newRow("stride 1") << 20 << 6 << 1;
        QTest::newRow("stride = T") << 33 << 8 << 8;
        QTest::newRow("short text") << 5 << 16 << 4;
    }

    void stridedScoresEachTargetOnce()
    {
        QFETCH(int, n);
        QFETCH(int, T);
        QFETCH(int, S);
        Protocol p = protocolPreset("sliding");
        p.context = T;
        p.stride = S;
        p.bos = BosPolicy::None;
        const auto set = cutWindows(stream(n), p, std::nullopt);
        std::multiset<std::int32_t> targets;
        for (const auto &w : set.windows) {
            QVERIFY(w.ids.size() <= std::size_t(T));
            for (std::size_t i = w.firstTarget; i < w.ids.size(); ++i)
                targets.insert(w.ids[i]);
        }
        // Every target after the first is scored once, except that with S == T the first token
        // of each later window has no context inside its window and is never scored.
        const int expected = S < T ? n - 1 : n - (n + T - 1) / T;
        QCOMPARE(int(targets.size()), expected);
        QCOMPARE(int(std::set<std::int32_t>(targets.begin(), targets.end()).size()), expected);
        QVERIFY(!targets.count(100)); // the first token is never a target
    }

    void invalidProtocols_data()
    {
        QTest::addColumn<int>("T");
        QTest::addColumn<int>("S");
        QTest::addColumn<bool>("withBos");
        QTest::newRow("context 1") << 1 << 1 << true;
        QTest::newRow("stride beyond context") << 8 << 9 << true;
        QTest::newRow("no bos id") << 8 << 8 << false;
        QTest::newRow("too few tokens") << 64 << 64 << true;
    }

    void invalidProtocols()
    {
        QFETCH(int, T);
        QFETCH(int, S);
        QFETCH(bool, withBos);
        Protocol p = protocolPreset("tiny-ts");
        p.context = T;
        p.stride = S;
        QVERIFY_THROWS_EXCEPTION(
            std::invalid_argument, cutWindows(stream(30), p, withBos ? std::optional<std::int32_t>(1) : std::nullopt));
    }

    void sampledWindowsAreSeeded()
    {
        Protocol p = protocolPreset("tiny-ts");
        p.context = p.stride = 4;
        const auto all = cutWindows(stream(300), p, 1);
        const auto a = sampleWindows(all, 10, 7), b = sampleWindows(all, 10, 7), c = sampleWindows(all, 10, 8);
        QCOMPARE(a.windows.size(), std::size_t(10));
        QVERIFY(a.windows.front().ids == b.windows.front().ids);
        bool differ = false;
        for (std::size_t i = 0; i < 10; ++i)
            differ |= a.windows[i].ids != c.windows[i].ids;
        QVERIFY(differ);
    }

    void formulas()
    {
        // Two windows: NLL sums 2 and 9 over 2 and 3 tokens.
        const std::vector<double> sums{2, 9};
        const std::vector<std::int64_t> counts{2, 3};
        QCOMPARE(reducePerplexity(PplFormula::F2TokenWeighted, sums, counts), std::exp(11.0 / 5));
        QCOMPARE(reducePerplexity(PplFormula::F1MeanOfWindows, sums, counts), std::exp((1.0 + 3.0) / 2));
        QCOMPARE(reducePerplexity(PplFormula::F3MeanOfWindowPpl, sums, counts), (std::exp(1.0) + std::exp(3.0)) / 2);
    }

    void protocolJsonRoundTrip()
    {
        Protocol p = protocolPreset("sliding");
        p.textSource = "wiki.test.raw";
        p.windows = 3;
        p.seed = 5;
        const Protocol q = Protocol::fromJson(p.toJson());
        QVERIFY(q.toJson() == p.toJson());
        auto j = p.toJson();
        j["formula"] = "F9";
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, Protocol::fromJson(j));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, protocolPreset("nonsense"));
    }

    // Every text gives a calibration pool (its first quarter) and an evaluation pool (its second
    // half) that share nothing, under every protocol and for JSONL documents; the card says which.
    void poolsAreDisjointForEveryText()
    {
        QTemporaryDir dir;
        const std::string plain = (dir.path() + QStringLiteral("/plain.txt")).toStdString();
        std::string text;
        for (int i = 0; i < 400; ++i)
            text += static_cast<char>('a' + i % 26);
        std::ofstream(plain) << text;
        const ByteTokenizer bytes;
        for (const char *preset : {"sleb", "evopress", "sliding", "finercut"}) {
            const TextStream calib = textStreamFor(plain, bytes, protocolPreset(preset), TextPool::Calibration);
            const TextStream eval = textStreamFor(plain, bytes, protocolPreset(preset), TextPool::Evaluation);
            QCOMPARE(decoded(calib), text.substr(0, 100));
            QCOMPARE(decoded(eval), text.substr(200));
            QCOMPARE(QString::fromStdString(eval.protocol.pool),
                QStringLiteral("evaluation pool: tokens [200, 400) of 400 (calibration pool [0, 100))"));
            QVERIFY(
                eval.protocol.card().find("pool:            evaluation pool: tokens [200, 400)") != std::string::npos);
            QCOMPARE(decoded(textStreamFor(plain, bytes, protocolPreset(preset), TextPool::All)), text);
        }
        // JSONL: whole documents, [0, n/4) and [n/2, n).
        const std::string jsonl = (dir.path() + QStringLiteral("/docs.jsonl")).toStdString();
        {
            std::ofstream out(jsonl);
            for (int i = 0; i < 8; ++i)
                out << "{\"text\": \"doc" << i << "\"}\n";
        }
        for (const char *preset : {"tiny-ts", "sleb"}) {
            QCOMPARE(decoded(textStreamFor(jsonl, bytes, protocolPreset(preset), TextPool::Calibration)),
                std::string("doc0\n\ndoc1"));
            const TextStream eval = textStreamFor(jsonl, bytes, protocolPreset(preset), TextPool::Evaluation);
            QCOMPARE(decoded(eval), std::string("doc4\n\ndoc5\n\ndoc6\n\ndoc7"));
            QCOMPARE(QString::fromStdString(eval.protocol.pool),
                QStringLiteral("evaluation pool: documents [4, 8) of 8 (calibration pool [0, 2))"));
        }
        // tiny-ts paragraphs as pruning.md §2 has them.
        const std::string stories = (dir.path() + QStringLiteral("/stories.txt")).toStdString();
        std::ofstream(stories) << "p0\n\np1\n\np2\n\np3\n\np4\n\np5\n\np6\n\np7";
        QCOMPARE(decoded(textStreamFor(stories, bytes, protocolPreset("tiny-ts"), TextPool::Calibration)),
            std::string("p0p1"));
        QCOMPARE(decoded(textStreamFor(stories, bytes, protocolPreset("tiny-ts"), TextPool::Evaluation)),
            std::string("p4p5p6p7"));

        // A job that calibrates and scores on one file splits it; two files are used whole, except
        // under tiny-ts, whose pools hold for any text.
        const Protocol sleb = protocolPreset("sleb"), tiny = protocolPreset("tiny-ts");
        for (const std::string &evalPath : {std::string(), plain, dir.path().toStdString() + "/./plain.txt"}) {
            const TextPools same = poolsFor(sleb, plain, evalPath);
            QCOMPARE(same.calibration, TextPool::Calibration);
            QCOMPARE(same.evaluation, TextPool::Evaluation);
        }
        const TextPools two = poolsFor(sleb, plain, stories);
        QCOMPARE(two.calibration, TextPool::All);
        QCOMPARE(two.evaluation, TextPool::All);
        QCOMPARE(poolsFor(tiny, plain, stories).evaluation, TextPool::Evaluation);
        // Evaluated on its own a text is whole, but under tiny-ts.
        QCOMPARE(standalonePool(sleb), TextPool::All);
        QCOMPARE(standalonePool(tiny), TextPool::Evaluation);
        // The pool travels in the protocol's JSON.
        Protocol p = sleb;
        p.pool = "evaluation pool: tokens [2, 4) of 4 (calibration pool [0, 1))";
        QCOMPARE(Protocol::fromJson(p.toJson()).pool, p.pool);
    }

    void tinyTsParagraphs()
    {
        const auto ps = blockscope::tinyTsParagraphs("  One  two   three.\n\n\n\nFour\nfive  \n\n   \n\nSix");
        QCOMPARE(ps.size(), std::size_t(3));
        QCOMPARE(QString::fromStdString(ps[0]), QStringLiteral("One two three."));
        QCOMPARE(QString::fromStdString(ps[1]), QStringLiteral("Four\nfive"));
        QCOMPARE(QString::fromStdString(ps[2]), QStringLiteral("Six"));
    }

    void wikitextRows()
    {
        QCOMPARE(QString::fromStdString(wikitextJoinedRows(" \n = Title = \n \nText .\n")),
            QStringLiteral("\n\n = Title = \n\n\n\n\nText .\n"));
    }
};

QTEST_GUILESS_MAIN(TestWindows)
#include "tst_windows.moc"
