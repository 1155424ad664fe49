// The sparsity sweep from the attention page with the real engine on stories260K: the rules typed
// and what stops a sweep, then a static-baseline sweep whose points and dense line arrive live.
#include "charts/sparsitychart.h"
#include "jobrunner.h"
#include "sparsitypanel.h"
#include "sparsitypointmodel.h"
#include "testdata.h"

#include <QComboBox>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTest>

#include <cmath>

using namespace blockscope;
using namespace blockscope::views;

class TestSparsityPanel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void rulesAndSources()
    {
        JobRunner runner;
        SparsityPanel panel(&runner);
        QString error;
        const auto rules = panel.rules(&error);
        QCOMPARE(rules.size(), std::size_t(6)); // 1.0 and the published densities
        QCOMPARE(rules.front().value, 1.0);
        QCOMPARE(rules.back().value, 0.1);
        auto *values = panel.findChild<QLineEdit *>(QStringLiteral("sweepValues"));
        values->setText(QStringLiteral("0.5; 2"));
        QVERIFY(panel.rules(&error).empty());
        QVERIFY2(error.contains(QLatin1String("'2'")), qPrintable(error));
        // Without gates only the ticked baselines run.
        QCOMPARE(panel.sources(), std::vector<sparse::MaskSource>{sparse::MaskSource::Static});
        panel.setGates(QStringLiteral("/g/x.seergate.safetensors"));
        QCOMPARE(
            panel.sources(), (std::vector<sparse::MaskSource>{sparse::MaskSource::Gates, sparse::MaskSource::Static}));
        panel.run(); // no model
        QCOMPARE(panel.statusText(), QStringLiteral("Open a model first"));
    }

    void staticSweepGrowsTheChart()
    {
        BLOCKSCOPE_REQUIRE_DATA(model, "models/stories260K/stories260K.bin");
        BLOCKSCOPE_REQUIRE_DATA(text, "text/tinystories_valid_head.txt");
        JobRunner runner;
        SparsityPanel panel(&runner);
        panel.setModel(model);
        panel.setTextPath(text);
        panel.findChild<QLineEdit *>(QStringLiteral("sweepValues"))->setText(QStringLiteral("1.0, 0.3"));
        QSignalSpy points(&panel, &SparsityPanel::pointShown);
        QSignalSpy ended(&panel, &SparsityPanel::sweepEnded);
        panel.run();
        QVERIFY(panel.isRunning());
        QVERIFY(ended.wait(180000));
        QCOMPARE(ended.at(0).at(0).toString(), QStringLiteral("complete"));
        QCOMPARE(points.count(), 2);
        SparsityPointModel *statics = panel.points(sparse::MaskSource::Static);
        QVERIFY(statics);
        QCOMPARE(statics->rowCount(), 2);
        QCOMPARE(panel.chart()->seriesCount(), 1);
        QCOMPARE(panel.chart()->pointCount(0), 2);
        QVERIFY(panel.chart()->hasDenseLine());
        QVERIFY(std::isfinite(panel.chart()->densePerplexity()));
        // Density 1 is the dense model; fewer blocks cannot do better than it on the same windows.
        QVERIFY(std::abs(statics->value(0, SparsityPointModel::Sparsity)) < 1e-9);
        QVERIFY(statics->value(1, SparsityPointModel::Sparsity) > 0);
        QVERIFY(statics->value(1, SparsityPointModel::Perplexity) >= panel.chart()->densePerplexity() * 0.99);
    }
};

QTEST_MAIN(TestSparsityPanel)
#include "tst_sparsitypanel.moc"
