// Perplexity and distances on stories260K: the golden tokens give the published NLL, formulas and
// masks behave as pruning.md §1.1 and §2 say.
#include "eval/perplexity.h"
#include "eval/windows.h"
#include "jobs/jobcontext.h"
#include "model/decoder.h"
#include "model/modelhandle.h"
#include "testdata.h"
#include "tinymodel.h"

#include <ATen/ATen.h>
#include <QFile>
#include <QTest>

using namespace blockscope;
using namespace blockscope::test;

class TestPerplexity : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        const QString bin = sharedFile(QStringLiteral("models/stories260K/stories260K.bin"));
        const QString tokens = sharedFile(QStringLiteral("golden/stories260K.tokens.txt"));
        if (bin.isEmpty() || tokens.isEmpty())
            QSKIP("stories260K not found (set BLOCKSCOPE_SHARED_DATA)");
        m_decoder = std::make_unique<Decoder>(ModelHandle::open(bin.toStdString()));
        QFile f(tokens);
        QVERIFY(f.open(QIODevice::ReadOnly));
        for (const auto &part : f.readAll().trimmed().split(' '))
            m_golden.push_back(part.toInt());
    }

    void goldenNll()
    {
        WindowSet set;
        set.protocol = protocolPreset("evopress");
        set.windows.push_back({m_golden, 1});
        const auto r = evaluatePerplexity(*m_decoder, set, UnitMask::dense(5));
        QCOMPARE(r.scored, 84);
        QVERIFY2(
            std::abs(r.nllSum / r.scored - 1.419665) < 1e-5, qPrintable(QString::number(r.nllSum / r.scored, 'g', 8)));
        QCOMPARE(r.perplexity, std::exp(r.nllSum / r.scored));
    }

    void batchingDoesNotChangeResults()
    {
        // A synthetic stream from repeating the golden story: 12 windows of 32.
        std::vector<std::int32_t> stream;
        for (int k = 0; k < 6; ++k)
            stream.insert(stream.end(), m_golden.begin() + 1, m_golden.end());
        Protocol p = protocolPreset("tiny-ts");
        p.context = p.stride = 32;
        const auto set = cutWindows(stream, p, 1);
        const auto one = evaluatePerplexity(*m_decoder, set, UnitMask::dense(5), nullptr, 1);
        const auto eight = evaluatePerplexity(*m_decoder, set, UnitMask::dense(5), nullptr, 8);
        QCOMPARE(one.scored, eight.scored);
        QVERIFY(std::abs(one.perplexity - eight.perplexity) < 1e-6 * one.perplexity);
        QCOMPARE(int(one.windowMeanNll.size()), int(set.windows.size()));
    }

    // With a large vocabulary the NLL is taken in chunks of positions (never more than 2^26 logits at
    // once); the result equals the whole-batch log-softmax of the full logits.
    void largeVocabularyIsScoredInChunks()
    {
        TinyShape shape;
        shape.vocab = 40000; // 8 windows x 255 scored positions x 40,000 > 2^26 logits
        shape.hidden = 16;
        shape.heads = 2;
        shape.kvHeads = 1;
        shape.intermediate = 32;
        shape.context = 256;
        const auto decoder = tinyDecoder(shape, 5);
        const WindowSet set = randomWindows(8, 256, 9, shape.vocab);
        const auto r = evaluatePerplexity(*decoder, set, UnitMask::dense(shape.layers), nullptr, 8);
        double expected = 0;
        std::int64_t scored = 0;
        for (const auto &w : set.windows) {
            at::Tensor tokens = tokensOf(w);
            at::Tensor lp
                = at::log_softmax(decoder->forward(tokens, UnitMask::dense(shape.layers))[0].to(at::kDouble), -1);
            for (std::int64_t t = w.firstTarget; t < tokens.size(1); ++t, ++scored)
                expected -= lp[t - 1][tokens[0][t].item<std::int64_t>()].item<double>();
        }
        QCOMPARE(r.scored, scored);
        QVERIFY2(std::abs(r.nllSum - expected) <= 1e-6 * std::abs(expected),
            qPrintable(QStringLiteral("%1 vs %2").arg(r.nllSum, 0, 'g', 12).arg(expected, 0, 'g', 12)));
    }

    void distances()
    {
        std::vector<std::int32_t> stream;
        for (int k = 0; k < 3; ++k)
            stream.insert(stream.end(), m_golden.begin() + 1, m_golden.end());
        Protocol p = protocolPreset("tiny-ts");
        p.context = p.stride = 64;
        const auto set = cutWindows(stream, p, 1);
        const auto same = compareToDense(*m_decoder, set, UnitMask::dense(5));
        QVERIFY(std::abs(same.klPerToken) < 1e-7);
        QVERIFY(std::abs(same.jsFinercut) < 1e-9);
        QVERIFY(same.angular < 1e-3);
        UnitMask mask = UnitMask::dense(5);
        mask.skipMlp[2] = true;
        const auto one = compareToDense(*m_decoder, set, mask);
        mask.skipBlock(3);
        const auto more = compareToDense(*m_decoder, set, mask);
        QVERIFY(one.klPerToken > 1e-4);
        QVERIFY(more.klPerToken > one.klPerToken);
        QVERIFY(one.jsFinercut > 0 && one.jsFinercut <= std::log(2.0));
        QVERIFY(one.angular > 0 && one.angular < 1);

        // kl_evopress by hand on the first window, dropping the last position.
        at::Tensor tokens = at::tensor(set.windows[0].ids, at::kLong).unsqueeze(0);
        UnitMask m2 = UnitMask::dense(5);
        m2.skipMlp[2] = true;
        at::Tensor lp = at::log_softmax(m_decoder->forward(tokens, UnitMask::dense(5)), -1);
        at::Tensor lq = at::log_softmax(m_decoder->forward(tokens, m2), -1);
        const double kl = (lp.exp() * (lp - lq)).sum(-1).narrow(1, 0, 63).mean().item<double>();
        WindowSet first;
        first.protocol = set.protocol;
        first.windows.push_back(set.windows[0]);
        QVERIFY(std::abs(compareToDense(*m_decoder, first, m2).klPerToken - kl) < 1e-6);
    }

    void cancelStopsAtNextBatch()
    {
        std::vector<std::int32_t> stream(5000, 300);
        Protocol p = protocolPreset("tiny-ts");
        p.context = p.stride = 16;
        const auto set = cutWindows(stream, p, 1);
        std::stop_source stop;
        int progressCalls = 0;
        JobContext job(stop.get_token(), {}, [&](double) {
            if (++progressCalls == 1)
                stop.request_stop();
        });
        QVERIFY_THROWS_EXCEPTION(JobCancelled, evaluatePerplexity(*m_decoder, set, UnitMask::dense(5), &job, 4));
    }

private:
    std::unique_ptr<Decoder> m_decoder;
    std::vector<std::int32_t> m_golden;
};

QTEST_GUILESS_MAIN(TestPerplexity)
#include "tst_perplexity.moc"
