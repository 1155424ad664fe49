// Cutting token streams into windows per protocol (pruning.md §2).
#include "eval/perplexity.h"
#include "eval/protocol.h"
#include "eval/windows.h"
#include "text/corpus.h"

#include <QTest>
#include <numeric>
#include <set>

using namespace blockscope;

namespace {
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
        QVERIFY(reducePerplexity(PplFormula::F3MeanOfWindowPpl, sums, counts)
            >= reducePerplexity(PplFormula::F1MeanOfWindows, sums, counts));
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
