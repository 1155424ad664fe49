// The trace table: one row per step, the dense row in front once its perplexity is known, numbers
// as QVXYModelMapper reads them, and the metric proxy that keeps missing values off the chart.
#include "metricfilterproxy.h"
#include "tracetablemodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace blockscope;
using namespace blockscope::views;

namespace {
TraceStep step(int index, std::vector<Unit> chosen, double score, double ppl, double kl)
{
    TraceStep s;
    s.index = index;
    s.kind = "phase";
    s.chosen = std::move(chosen);
    s.chosenScore = score;
    s.perplexity = ppl;
    s.klToDense = kl;
    s.evaluations = 10 * (index + 1);
    s.tokens = 1000 * (index + 1);
    s.seconds = 0.5 * (index + 1);
    s.mask = UnitMask::dense(4);
    for (const auto &u : s.chosen)
        u.applyTo(s.mask);
    return s;
}
} // namespace

class TestTraceTableModel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void passesModelTester()
    {
        TraceTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.appendStep(step(0, {{UnitKind::Block, 2}}, 40, 41, 0.2));
        model.setDensePerplexity(33);
        model.appendStep(step(1, {{UnitKind::Block, 1}}, 60, 62, 0.5));
        model.setDensePerplexity(34);
        model.setDensePerplexity(TraceStep::NaN);
        model.setSteps({step(0, {}, 1, 2, 3)}, 30);
        model.setSteps({});
    }

    void proxyPassesModelTester()
    {
        TraceTableModel model;
        MetricFilterProxy proxy;
        proxy.setSourceModel(&model);
        proxy.setMetricColumn(TraceTableModel::Perplexity);
        QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.appendStep(step(0, {{UnitKind::Block, 2}}, 40, TraceStep::NaN, TraceStep::NaN));
        model.appendStep(step(1, {{UnitKind::Block, 1}}, 60, 62, 0.5));
        model.setDensePerplexity(33);
        proxy.setMetricColumn(TraceTableModel::Score);
        proxy.setPositiveOnly(true);
        proxy.setMetricColumn(TraceTableModel::KlToDense);
    }

    void rowsAndColumns()
    {
        TraceTableModel model;
        model.appendStep(step(0, {{UnitKind::Attention, 3}, {UnitKind::Mlp, 1}}, 0.125, 41.5, 0.25));
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.columnCount(), int(TraceTableModel::ColumnCount));
        auto cell
            = [&](int row, int column, int role = Qt::DisplayRole) { return model.index(row, column).data(role); };
        QCOMPARE(cell(0, TraceTableModel::Step).toInt(), 0);
        QCOMPARE(cell(0, TraceTableModel::UnitsRemoved).toInt(), 1);
        QCOMPARE(cell(0, TraceTableModel::Kind).toString(), QStringLiteral("phase"));
        QCOMPARE(cell(0, TraceTableModel::Chosen).toString(), QStringLiteral("attn 3, mlp 1"));
        QCOMPARE(cell(0, TraceTableModel::Score).toDouble(), 0.125);
        QCOMPARE(cell(0, TraceTableModel::Perplexity).toDouble(), 41.5);
        QCOMPARE(cell(0, TraceTableModel::KlToDense).toDouble(), 0.25);
        QCOMPARE(cell(0, TraceTableModel::Evaluations).toInt(), 10);
        QCOMPARE(cell(0, TraceTableModel::Tokens).toInt(), 1000);
        QCOMPARE(cell(0, TraceTableModel::Seconds).toDouble(), 0.5);
        QCOMPARE(cell(0, TraceTableModel::Perplexity, Qt::ToolTipRole).toString(), QStringLiteral("41.5"));
        QCOMPARE(model.headerData(TraceTableModel::UnitsRemoved, Qt::Horizontal).toString(),
            QStringLiteral("Units removed"));
    }

    void missingNumbersShowNothing()
    {
        TraceTableModel model;
        model.appendStep(step(0, {{UnitKind::Block, 0}}, 40, TraceStep::NaN, TraceStep::NaN));
        QVERIFY(!model.index(0, TraceTableModel::Perplexity).data().isValid());
        QVERIFY(std::isnan(model.index(0, TraceTableModel::Perplexity).data(TraceTableModel::ValueRole).toDouble()));
        QVERIFY(!model.index(0, TraceTableModel::Chosen).data(TraceTableModel::ValueRole).isValid());
    }

    void denseRowGoesFirst()
    {
        TraceTableModel model;
        model.appendStep(step(0, {{UnitKind::Block, 2}}, 40, 41, 0.2));
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.setDensePerplexity(32.96);
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(inserted.at(0).at(1).toInt(), 0);
        QCOMPARE(model.rowCount(), 2);
        QVERIFY(model.hasDenseRow());
        QVERIFY(!model.stepAt(0));
        QCOMPARE(model.stepAt(1)->index, 0);
        QCOMPARE(model.index(0, TraceTableModel::Kind).data().toString(), QStringLiteral("dense"));
        QCOMPARE(model.index(0, TraceTableModel::UnitsRemoved).data().toInt(), 0);
        QCOMPARE(model.index(0, TraceTableModel::Perplexity).data().toDouble(), 32.96);
        QCOMPARE(model.index(0, TraceTableModel::KlToDense).data().toDouble(), 0.0);
        QVERIFY(!model.index(0, TraceTableModel::Score).data().isValid());
        // Updating it changes the row in place; NaN takes it away again.
        model.setDensePerplexity(33.0);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(model.rowCount(), 2);
        model.setDensePerplexity(TraceStep::NaN);
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.stepAt(0)->index, 0);
    }

    void appendEmitsOneInsertPerStep()
    {
        TraceTableModel model;
        model.setDensePerplexity(30);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        for (int i = 0; i < 3; ++i)
            model.appendStep(step(i, {{UnitKind::Block, i}}, i, 30 + i, 0.1 * i));
        QCOMPARE(inserted.count(), 3);
        QCOMPARE(inserted.at(2).at(1).toInt(), 3);
        QCOMPARE(model.steps().size(), std::size_t(3));
        QCOMPARE(model.index(3, TraceTableModel::UnitsRemoved).data().toInt(), 3);
    }

    void proxyKeepsRowsWithTheMetric_data()
    {
        QTest::addColumn<int>("column");
        QTest::addColumn<bool>("positiveOnly");
        QTest::addColumn<int>("rows");
        // Rows: dense (ppl 30, KL 0, no score), step 0 (no ppl / KL, score 5), step 1 (ppl 50, KL 0.4, score 0).
        QTest::newRow("perplexity: dense and step 1") << int(TraceTableModel::Perplexity) << false << 2;
        QTest::newRow("KL: dense 0 and step 1") << int(TraceTableModel::KlToDense) << false << 2;
        QTest::newRow("KL on a log axis drops the zero") << int(TraceTableModel::KlToDense) << true << 1;
        QTest::newRow("score: both steps, no dense") << int(TraceTableModel::Score) << false << 2;
        QTest::newRow("positive scores only") << int(TraceTableModel::Score) << true << 1;
        QTest::newRow("units removed: every row") << int(TraceTableModel::UnitsRemoved) << false << 3;
    }
    void proxyKeepsRowsWithTheMetric()
    {
        QFETCH(int, column);
        QFETCH(bool, positiveOnly);
        QFETCH(int, rows);
        TraceTableModel model;
        model.appendStep(step(0, {{UnitKind::Block, 2}}, 5, TraceStep::NaN, TraceStep::NaN));
        model.appendStep(step(1, {{UnitKind::Block, 1}}, 0, 50, 0.4));
        model.setDensePerplexity(30);
        MetricFilterProxy proxy;
        proxy.setSourceModel(&model);
        proxy.setMetricColumn(column);
        proxy.setPositiveOnly(positiveOnly);
        QCOMPARE(proxy.rowCount(), rows);
    }

    void proxyFollowsAppends()
    {
        TraceTableModel model;
        MetricFilterProxy proxy;
        proxy.setMetricColumn(TraceTableModel::Perplexity);
        proxy.setSourceModel(&model);
        QSignalSpy inserted(&proxy, &QAbstractItemModel::rowsInserted);
        model.appendStep(step(0, {{UnitKind::Block, 2}}, 5, 40, 0.1));
        model.appendStep(step(1, {{UnitKind::Block, 1}}, 5, TraceStep::NaN, TraceStep::NaN));
        model.appendStep(step(2, {{UnitKind::Block, 0}}, 5, 90, 0.9));
        QCOMPARE(proxy.rowCount(), 2);
        QCOMPARE(inserted.count(), 2);
        QCOMPARE(proxy.index(1, TraceTableModel::UnitsRemoved).data().toInt(), 3);
    }
};

QTEST_MAIN(TestTraceTableModel)
#include "tst_tracetablemodel.moc"
