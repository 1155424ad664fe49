// Block shares of one PPA point: each kept unit's share of the kept total of parameters, FLOPs,
// bytes (modelled) and time (measured), removed units at 0 with a marker, headers with provenance.
#include "blocksharemodel.h"
#include "ppatestpoints.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include <cmath>

using namespace blockscope;
using namespace blockscope::views;

class TestBlockShareModel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void passesTheModelTester()
    {
        BlockShareModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const auto run = test::syntheticRun(true, true);
        model.setPoint(run[2]);
        model.setMetric(BlockShareMetric::Time);
        model.clear();
        model.setPoint(run[0]);
        QCOMPARE(model.rowCount(), 10);
    }

    void sharesOfTheKeptTotal_data()
    {
        QTest::addColumn<int>("metric");
        QTest::addColumn<QString>("title");
        QTest::newRow("parameters") << int(BlockShareMetric::Params) << "Share of parameters (modelled)";
        QTest::newRow("FLOPs") << int(BlockShareMetric::Flops) << "Share of prefill FLOPs per token (modelled)";
        QTest::newRow("bytes") << int(BlockShareMetric::Bytes) << "Share of decode bytes per token (modelled)";
        QTest::newRow("time") << int(BlockShareMetric::Time) << "Share of prefill time (measured)";
        QTest::newRow("energy") << int(BlockShareMetric::Energy) << "Share of prefill energy per token (measured)";
    }

    void sharesOfTheKeptTotal()
    {
        QFETCH(int, metric);
        QFETCH(QString, title);
        BlockShareModel model;
        // Step 1 removed blocks 1 and 2: kept 1000 + 2·1200 + 1000 = 4400 parameters.
        model.setPoint(test::syntheticRun(true, true)[2]);
        model.setMetric(static_cast<BlockShareMetric>(metric));
        QCOMPARE(model.metricTitle(model.metric()), title);
        QCOMPARE(model.headerData(BlockShareModel::Share, Qt::Horizontal).toString(), title);
        QCOMPARE(model.unitName(0), QStringLiteral("embedding"));
        QCOMPARE(model.value(0, BlockShareModel::Share), 100.0 * 1000 / 4400);
        QCOMPARE(model.value(1, BlockShareModel::Share), 100.0 * 400 / 4400); // attn 0
        double total = 0;
        for (int row = 0; row < model.rowCount(); ++row)
            total += model.value(row, BlockShareModel::Share);
        QCOMPARE(total, 100.0);
        // attn 1 and mlp 2 are removed: no share, a stub a fifth of the largest share, "(removed)".
        for (int row : {3, 4, 5, 6}) {
            QVERIFY(model.isRemoved(row));
            QCOMPARE(model.value(row, BlockShareModel::Share), 0.0);
            QCOMPARE(model.value(row, BlockShareModel::RemovedMarker), 0.2 * 100.0 * 1000 / 4400);
            QVERIFY(
                model.data(model.index(row, BlockShareModel::Unit)).toString().endsWith(QStringLiteral("(removed)")));
        }
        QCOMPARE(model.value(0, BlockShareModel::RemovedMarker), 0.0);
    }

    // A deep model's bars, one a block: attention and MLP summed over what is kept.
    void groupedByBlock()
    {
        BlockShareModel model;
        UnitMask mask = UnitMask::dense(4);
        mask.skipAttn[1] = true;
        mask.skipAttn[2] = mask.skipMlp[2] = true;
        ppa::PpaPoint point;
        point.label = "grouped";
        point.mask = mask;
        point.costs = test::syntheticCosts(mask, true);
        model.setPoint(point);
        QCOMPARE(model.rowCount(), 10);
        QCOMPARE(model.blockCount(), 4);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        model.setByBlock(true);
        QCOMPARE(reset.count(), 1);
        QCOMPARE(model.rowCount(), 6); // embedding, blocks 0-3, lm_head
        QCOMPARE(model.unitName(0), QStringLiteral("embedding"));
        QCOMPARE(model.unitName(1), QStringLiteral("block 0"));
        QCOMPARE(model.unitName(2), QStringLiteral("block 1 (attn removed)"));
        QCOMPARE(model.unitName(3), QStringLiteral("block 2"));
        QCOMPARE(model.unitName(5), QStringLiteral("lm_head"));
        QVERIFY(!model.isRemoved(2));
        QVERIFY(model.isRemoved(3));
        // Kept: 1000 + 1200 + 800 + 1200 + 1000 = 5200 parameters.
        QCOMPARE(model.value(1, BlockShareModel::Share), 100.0 * 1200 / 5200);
        QCOMPARE(model.value(2, BlockShareModel::Share), 100.0 * 800 / 5200);
        QCOMPARE(model.value(3, BlockShareModel::Share), 0.0);
        double total = 0;
        for (int row = 0; row < model.rowCount(); ++row)
            total += model.value(row, BlockShareModel::Share);
        QVERIFY(std::abs(total - 100.0) < 1e-9);
        // Measured parts sum to a measured block time.
        QVERIFY(std::abs(model.value(1, BlockShareModel::TimeMs) - 1e-6 * 1200 * 1e3) < 1e-12);
        QCOMPARE(model.figureProvenance(1, BlockShareMetric::Time), QStringLiteral("measured"));
        model.setByBlock(false);
        QCOMPARE(model.rowCount(), 10);
        QCOMPARE(model.unitName(3), QStringLiteral("attn 1"));
    }

    void timeNeedsAMeasurement()
    {
        BlockShareModel model;
        model.setPoint(test::syntheticRun(false, true)[1]);
        QVERIFY(!model.hasMetric(BlockShareMetric::Time));
        QVERIFY(model.hasMetric(BlockShareMetric::Params));
        QCOMPARE(model.metricTitle(BlockShareMetric::Time), QStringLiteral("Share of prefill time (not measured)"));
        QVERIFY(std::isnan(model.value(0, BlockShareModel::TimeShare)));
        QCOMPARE(model.headerData(BlockShareModel::TimeMs, Qt::Horizontal).toString(),
            QStringLiteral("prefill ms (not measured)"));
        QVERIFY(model.figureProvenance(0, BlockShareMetric::Time).isEmpty());
        // Energy without a counter is modelled per unit, and says so.
        QCOMPARE(model.metricTitle(BlockShareMetric::Energy),
            QStringLiteral("Share of prefill energy per token (modelled)"));
        QCOMPARE(model.figureProvenance(0, BlockShareMetric::Energy), QStringLiteral("modelled"));
        QCOMPARE(model.value(0, BlockShareModel::EnergyShare), 100.0 * 1000 / 5600);
    }

    void metricChangeUpdatesTheShareColumn()
    {
        BlockShareModel model;
        model.setPoint(test::syntheticRun(true, true)[0]);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy header(&model, &QAbstractItemModel::headerDataChanged);
        model.setMetric(BlockShareMetric::Time);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(header.count(), 1);
        QCOMPARE(model.figureProvenance(0, BlockShareMetric::Time), QStringLiteral("measured"));
        QVERIFY(model.data(model.index(0, BlockShareModel::Unit), Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("(measured)")));
    }
};

QTEST_MAIN(TestBlockShareModel)
#include "tst_blocksharemodel.moc"
