// The attention page's per-head table: one row per head and the mean last (through
// QAbstractItemModelTester), numbers in place when only the mask changes, and rows for heads.
#include "headstatsmodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include <cmath>

using namespace blockscope;
using namespace blockscope::views;

namespace {
sparse::MaskStats stats(double tile, double recall, std::int64_t empty = 0)
{
    sparse::MaskStats s;
    s.tileDensity = tile;
    s.tileDensityLearned = tile * 0.8;
    s.pairDensity = tile * 0.9;
    s.recallMean = recall;
    s.recallP5 = std::nan("");
    s.recallMin = recall * 0.5;
    s.emptyRows = empty;
    return s;
}
} // namespace

class TestHeadStatsModel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void passesTester()
    {
        HeadStatsModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setStats({stats(0.5, 0.9), stats(0.4, 0.8)}, stats(0.45, 0.85));
        model.setStats({stats(0.3, 0.7), stats(0.2, 0.6)}, stats(0.25, 0.65));
        model.setStats({stats(0.3, 0.7)}, stats(0.3, 0.7));
        model.clear();
    }

    void rowsAndValues()
    {
        HeadStatsModel model;
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(model.rowForHead(0), -1);
        model.setStats({stats(0.5, 0.9), stats(0.4, 0.8, 3)}, stats(0.45, 0.85, 3));
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.rowForHead(1), 1);
        QCOMPARE(model.rowForHead(-1), 2);
        QCOMPARE(model.rowForHead(5), -1);
        QCOMPARE(model.data(model.index(0, HeadStatsModel::Head)).toString(), QStringLiteral("head 0"));
        QCOMPARE(model.data(model.index(2, HeadStatsModel::Head)).toString(), QStringLiteral("mean"));
        QCOMPARE(model.data(model.index(2, HeadStatsModel::Head), HeadStatsModel::HeadRole).toInt(), -1);
        QCOMPARE(model.data(model.index(1, HeadStatsModel::TileDensity)).toString(), QStringLiteral("0.400"));
        QCOMPARE(model.data(model.index(1, HeadStatsModel::EmptyRows)).toLongLong(), 3);
        QCOMPARE(model.data(model.index(0, HeadStatsModel::RecallP5)).toString(), QStringLiteral("\u2014"));
        QCOMPARE(model.value(2, HeadStatsModel::RecallMean), 0.85);
    }

    void newNumbersDoNotResetTheRows()
    {
        HeadStatsModel model;
        model.setStats({stats(0.5, 0.9), stats(0.4, 0.8)}, stats(0.45, 0.85));
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.setStats({stats(0.2, 0.7), stats(0.1, 0.6)}, stats(0.15, 0.65));
        QCOMPARE(reset.count(), 0);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(model.value(0, HeadStatsModel::TileDensity), 0.2);
    }
};

QTEST_GUILESS_MAIN(TestHeadStatsModel)
#include "tst_headstatsmodel.moc"
