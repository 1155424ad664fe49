// The attention page on synthetic snapshots (no model): the three maps and the token view, the
// slider and the rule re-selecting masks and recomputing the statistics at once, one head or the
// mean over heads, the oracle and static sources, no gates, and the maps exported as images and
// as CSV read back.
#include "attentionpage.h"
#include "heatmapview.h"
#include "render/gridcsv.h"
#include "testdata.h"

#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QLabel>
#include <QSignalSpy>
#include <QSlider>
#include <QTabWidget>
#include <QTest>

#include <cmath>
#include <memory>

using namespace blockscope;
using namespace blockscope::views;

namespace {
// One head's maps from an explicit token attention P (row i softmax-like over j <= i), derived
// as seerattention.md §2 defines them.
sparse::HeadAttention headFrom(const std::vector<float> &p, int n, int blockSize, bool gates, int seed)
{
    const int nb = (n + blockSize - 1) / blockSize;
    sparse::HeadAttention h;
    h.tokenProbs = p;
    h.tokenMass.assign(static_cast<std::size_t>(n) * nb, 0.0f);
    h.blockMass = sparse::BlockGrid(nb);
    sparse::BlockGrid g(nb);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j <= i; ++j) {
            const float v = p[static_cast<std::size_t>(i) * n + j];
            h.tokenMass[static_cast<std::size_t>(i) * nb + j / blockSize] += v;
            h.blockMass.at(i / blockSize, j / blockSize) += v;
            g.at(i / blockSize, j / blockSize) = std::max(g.at(i / blockSize, j / blockSize), v);
        }
    h.truth = g;
    for (int r = 0; r < nb; ++r) {
        float sum = 0;
        for (int c = 0; c <= r; ++c)
            sum += g.at(r, c);
        for (int c = 0; c <= r; ++c)
            h.truth.at(r, c) = g.at(r, c) / sum;
    }
    if (gates) {
        h.gateLogits = sparse::BlockGrid(nb);
        for (int r = 0; r < nb; ++r)
            for (int c = 0; c <= r; ++c)
                h.gateLogits.at(r, c)
                    = std::log(h.truth.at(r, c)) + 0.3f * std::sin(static_cast<float>(seed + 7 * r + c));
        h.gateProbs = sparse::rowSoftmax(h.gateLogits);
    }
    return h;
}

// N tokens, heads attending to themselves, the first token and recent tokens in different measure.
std::shared_ptr<sparse::LayerAttentionSnapshot> synthetic(
    int n, int blockSize, int heads, bool gates, bool tokenLevel = true)
{
    auto s = std::make_shared<sparse::LayerAttentionSnapshot>();
    s->layer = 1;
    s->tokens = n;
    s->blockSize = blockSize;
    s->nb = (n + blockSize - 1) / blockSize;
    s->hasGates = gates;
    for (int i = 0; i < n; ++i)
        s->tokenTexts.push_back(i == 0 ? std::string("<s>") : "\xe2\x96\x81t" + std::to_string(i));
    for (int h = 0; h < heads; ++h) {
        std::vector<float> p(static_cast<std::size_t>(n) * n, 0.0f);
        for (int i = 0; i < n; ++i) {
            float sum = 0;
            for (int j = 0; j <= i; ++j) {
                // Head 0: a strong sink and short reach; head 1: no sink, long reach; then between.
                const float sink = h == 0 ? 4.0f : h == 1 ? 0.0f : 1.0f;
                const float reach = h == 0 ? 2.0f : h == 1 ? 12.0f : 30.0f;
                const float w = (j == 0 ? sink : 0.0f) + (j == i ? 3.0f : 0.0f)
                    + std::exp(-static_cast<float>(i - j) / reach) + 0.01f;
                p[static_cast<std::size_t>(i) * n + j] = w;
                sum += w;
            }
            for (int j = 0; j <= i; ++j)
                p[static_cast<std::size_t>(i) * n + j] /= sum;
        }
        s->heads.push_back(headFrom(p, n, blockSize, gates, h));
    }
    // Element-wise means, as the engine reports them.
    sparse::HeadAttention mean = s->heads.front();
    auto average = [&](auto member) {
        auto &out = mean.*member;
        for (std::size_t k = 0; k < out.size(); ++k) {
            float sum = 0;
            for (const auto &h : s->heads)
                sum += (h.*member)[k];
            out[k] = sum / static_cast<float>(s->heads.size());
        }
    };
    auto averageGrid = [&](sparse::BlockGrid sparse::HeadAttention::*member) {
        auto &out = (mean.*member).values;
        for (std::size_t k = 0; k < out.size(); ++k) {
            float sum = 0;
            for (const auto &h : s->heads)
                sum += (h.*member).values[k];
            out[k] = sum / static_cast<float>(s->heads.size());
        }
    };
    average(&sparse::HeadAttention::tokenProbs);
    average(&sparse::HeadAttention::tokenMass);
    for (auto m : {&sparse::HeadAttention::truth, &sparse::HeadAttention::gateLogits, &sparse::HeadAttention::gateProbs,
             &sparse::HeadAttention::blockMass})
        averageGrid(m);
    s->meanOverHeads = mean;
    if (!tokenLevel) {
        for (auto &h : s->heads)
            h.tokenProbs.clear();
        s->meanOverHeads.tokenProbs.clear();
    }
    return s;
}

sparse::MaskRule density(double rho, bool lastBlockDense = true)
{
    sparse::MaskRule r;
    r.kind = sparse::MaskRule::Kind::Density;
    r.value = rho;
    r.lastBlockDense = lastBlockDense;
    return r;
}
} // namespace

class TestAttentionPage : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void showsTheThreeMapsAndTokens()
    {
        JobRunner runner;
        AttentionPage page(&runner);
        QVERIFY(!page.view(AttentionPage::View::Truth)->hasData());
        QSignalSpy shown(&page, &AttentionPage::snapshotShown);
        page.setSnapshot(synthetic(40, 8, 2, true));
        QCOMPARE(shown.count(), 1);
        for (auto v : {AttentionPage::View::Truth, AttentionPage::View::Gate, AttentionPage::View::Mask})
            QCOMPARE(page.view(v)->figure().grid.nb, 5);
        QVERIFY(page.hasTokenView());
        QCOMPARE(page.view(AttentionPage::View::Tokens)->figure().grid.nb, 40);
        QCOMPARE(page.view(AttentionPage::View::Tokens)->figure().labels.size(), std::size_t(40));
        QCOMPARE(page.headBox()->count(), 3); // mean, head 0, head 1
        QCOMPARE(page.maskSource(), AttentionPage::MaskSource::Gates);
        QVERIFY(!page.masks().empty());
        QVERIFY(!page.statsText().contains(QStringLiteral("tile density: \u2014")));
    }

    void sliderReselectsTheMaskWithoutTheModel()
    {
        JobRunner runner;
        AttentionPage page(&runner);
        page.setSnapshot(synthetic(64, 4, 2, true)); // nb = 16
        page.setHead(0);
        page.setMaskRule(density(0.5, false));
        QCOMPARE(page.masks().size(), std::size_t(1));
        const std::int64_t half = page.maskCellCount();
        const QString halfText = page.statsText();
        QSignalSpy updated(&page, &AttentionPage::maskUpdated);
        page.slider()->setValue(100); // density 0.1
        QTRY_VERIFY(updated.count() > 0);
        QVERIFY2(
            page.maskCellCount() < half, qPrintable(QStringLiteral("%1 vs %2").arg(page.maskCellCount()).arg(half)));
        QVERIFY(page.statsText() != halfText);
        QVERIFY(std::abs(page.maskRule().value - 0.1) < 1e-9);
        QVERIFY(page.maskStats().tileDensity < 0.5);
        QVERIFY(page.maskStats().recallMean > 0 && page.maskStats().recallMean <= 1.0 + 1e-9);
        QVERIFY(!std::isnan(page.maskStats().recallP5)); // token masses are known
        page.slider()->setValue(1000); // density 1: everything
        QTRY_COMPARE(page.maskCellCount(), std::int64_t(16 * 17 / 2));
        QVERIFY(std::abs(page.maskStats().recallMean - 1.0) < 1e-5);
        QCOMPARE(page.view(AttentionPage::View::Truth)->figure().grid.nb, 16); // the maps stay
    }

    void thresholdRule()
    {
        JobRunner runner;
        AttentionPage page(&runner);
        page.setSnapshot(synthetic(64, 4, 2, true));
        page.setHead(1);
        sparse::MaskRule low;
        low.kind = sparse::MaskRule::Kind::Threshold;
        low.value = 1e-4;
        low.lastBlockDense = false;
        page.setMaskRule(low);
        QCOMPARE(page.modeBox()->currentData().toInt(), int(sparse::MaskRule::Kind::Threshold));
        const std::int64_t many = page.maskCellCount();
        sparse::MaskRule high = low;
        high.value = 0.9;
        page.setMaskRule(high);
        QVERIFY(page.maskCellCount() < many);
        // A high threshold leaves rows whose largest block share is below it empty.
        QVERIFY(page.maskStats().emptyRows > 0);
        QVERIFY(page.statsText().contains(QStringLiteral("empty rows: %1").arg(page.maskStats().emptyRows)));
    }

    void meanOverHeads()
    {
        JobRunner runner;
        AttentionPage page(&runner);
        page.setSnapshot(synthetic(64, 4, 3, true));
        page.setMaskRule(density(0.3));
        page.setHead(-1);
        QCOMPARE(page.masks().size(), std::size_t(3));
        const auto &overlay = page.view(AttentionPage::View::Mask)->figure().mask;
        QCOMPARE(overlay.size, 16);
        bool partial = false;
        for (float k : overlay.kept)
            partial = partial || (k > 0.0f && k < 1.0f);
        QVERIFY(partial); // heads disagree somewhere
        // The statistics are the heads' average.
        double sum = 0;
        for (int h = 0; h < 3; ++h) {
            page.setHead(h);
            sum += page.maskStats().tileDensity;
        }
        page.setHead(-1);
        QVERIFY(std::abs(page.maskStats().tileDensity - sum / 3) < 1e-9);
        QVERIFY(page.view(AttentionPage::View::Truth)->figure().subtitle.contains(QLatin1String("mean over 3 heads")));
        QVERIFY(page.view(AttentionPage::View::Mask)->cellDescription(5, 1).contains(QLatin1String("heads")));
    }

    void tokenViewOnlyForShortTexts()
    {
        JobRunner runner;
        AttentionPage page(&runner);
        page.setSnapshot(synthetic(40, 8, 2, true));
        QVERIFY(page.hasTokenView());
        page.setSnapshot(synthetic(600, 64, 2, true, false)); // the engine keeps P for short texts only
        QVERIFY(!page.hasTokenView());
        QVERIFY(!page.view(AttentionPage::View::Tokens)->hasData());
        QCOMPARE(page.view(AttentionPage::View::Truth)->figure().grid.nb, 10);
    }

    void withoutGatesTheOracleMasks()
    {
        JobRunner runner;
        AttentionPage page(&runner);
        page.setSnapshot(synthetic(64, 4, 2, false));
        QVERIFY(!page.view(AttentionPage::View::Gate)->hasData());
        QVERIFY(page.view(AttentionPage::View::Gate)->placeholder().contains(QLatin1String("No gates")));
        QCOMPARE(page.maskSource(), AttentionPage::MaskSource::Oracle);
        page.setMaskRule(density(0.5, false));
        QVERIFY(page.maskCellCount() > 0);
        // Gates arriving later take over the mask.
        page.setSnapshot(synthetic(64, 4, 2, true));
        QCOMPARE(page.maskSource(), AttentionPage::MaskSource::Gates);
    }

    void staticSourceIsDensityOnly()
    {
        JobRunner runner;
        AttentionPage page(&runner);
        page.setSnapshot(synthetic(64, 4, 2, true));
        sparse::MaskRule t;
        t.kind = sparse::MaskRule::Kind::Threshold;
        t.value = 0.01;
        page.setMaskRule(t);
        page.setMaskSource(AttentionPage::MaskSource::Static);
        QCOMPARE(page.maskRule().kind, sparse::MaskRule::Kind::Density);
        QVERIFY(!page.modeBox()->isEnabled());
        QVERIFY(page.maskCellCount() > 0);
    }

    void longTextsStayResponsive()
    {
        // 32k tokens at B = 64: 512 x 512 blocks per head, block maps only (no token masses).
        const int nb = 512, heads = 8;
        auto s = std::make_shared<sparse::LayerAttentionSnapshot>();
        s->tokens = nb * 64;
        s->blockSize = 64;
        s->nb = nb;
        s->hasGates = true;
        for (int h = 0; h < heads; ++h) {
            sparse::HeadAttention a;
            a.gateLogits = sparse::BlockGrid(nb);
            a.blockMass = sparse::BlockGrid(nb);
            for (int i = 0; i < nb; ++i)
                for (int j = 0; j <= i; ++j) {
                    a.gateLogits.at(i, j) = -0.05f * static_cast<float>(i - j) + (j == 0 ? 3.0f : 0.0f)
                        + 0.2f * std::sin(static_cast<float>(h * 31 + i * 7 + j));
                    a.blockMass.at(i, j) = 64.0f / static_cast<float>(i + 1);
                }
            a.gateProbs = sparse::rowSoftmax(a.gateLogits);
            a.truth = a.gateProbs;
            s->heads.push_back(std::move(a));
        }
        s->meanOverHeads = s->heads.front();
        JobRunner runner;
        AttentionPage page(&runner);
        page.resize(1600, 900);
        QElapsedTimer timer;
        timer.start();
        page.setSnapshot(s);
        const qint64 shown = timer.restart();
        page.setMaskRule(density(0.2));
        const qint64 reselected = timer.elapsed();
        qInfo("512 x 512 blocks, %d heads: shown in %lld ms, mask re-selected in %lld ms", heads,
            static_cast<long long>(shown), static_cast<long long>(reselected));
        QCOMPARE(page.masks().size(), std::size_t(heads));
        QVERIFY(std::isnan(page.maskStats().recallP5)); // block sums only
        QVERIFY(reselected < 3000);
    }

    void exportsMapsAndMatrices()
    {
        JobRunner runner;
        AttentionPage page(&runner);
        const auto snapshot = synthetic(40, 8, 2, true);
        page.setSnapshot(snapshot);
        page.setHead(0);
        const QString dir = test::freshTempDir(QStringLiteral("attention-export"));
        QString error;
        QVERIFY2(page.exportView(AttentionPage::View::Truth, dir + "/truth.csv", &error), qPrintable(error));
        sparse::BlockGrid back;
        QVERIFY2(render::readGridCsv(dir + "/truth.csv", &back, &error), qPrintable(error));
        QCOMPARE(back.nb, 5);
        for (int i = 0; i < 5; ++i)
            for (int j = 0; j < 5; ++j) {
                if (j > i)
                    QVERIFY(std::isnan(back.at(i, j)));
                else
                    QCOMPARE(back.at(i, j), snapshot->heads[0].truth.at(i, j));
            }
        QVERIFY2(page.exportView(AttentionPage::View::Tokens, dir + "/tokens.csv", &error), qPrintable(error));
        QFile tokens(dir + "/tokens.csv");
        QVERIFY(tokens.open(QIODevice::ReadOnly));
        QVERIFY(tokens.readLine().startsWith("row\\col,0:<s>,1:\xe2\x96\x81t1"));
        for (const QString name : {"mask.png", "mask.svg", "mask.pdf"}) {
            QVERIFY2(page.exportView(AttentionPage::View::Mask, dir + '/' + name, &error), qPrintable(error));
            QVERIFY(QFile(dir + '/' + name).size() > 0);
        }
        page.setSnapshot(synthetic(40, 8, 2, false));
        QVERIFY(!page.exportView(AttentionPage::View::Gate, dir + "/gate.png", &error));
        QVERIFY(error.contains(QLatin1String("empty")));
    }
};

QTEST_MAIN(TestAttentionPage)
#include "tst_attentionpage.moc"
