// The flat tables' common base: every model built on ColumnTableModel has as many columns as its
// Column enum says, a name and a tooltip for each, and passes Qt's model checks while rows come
// and go through the base's row edits.
#include "blocksharemodel.h"
#include "gatetrainmodel.h"
#include "headstatsmodel.h"
#include "ppapointmodel.h"
#include "pparunlistmodel.h"
#include "runlistmodel.h"
#include "sparsitypointmodel.h"
#include "tracetablemodel.h"

#include <QAbstractItemModelTester>
#include <QTest>

#include <cmath>

using namespace blockscope;
using namespace blockscope::views;

namespace {
sparse::GateTrainStep step(std::int64_t index, double loss)
{
    sparse::GateTrainStep s;
    s.step = index;
    s.loss = loss;
    return s;
}

// Every column has a display name; with `tips`, a tooltip too.
void checkHeader(const QAbstractItemModel &m, int columns, bool tips)
{
    QCOMPARE(m.columnCount(), columns);
    for (int c = 0; c < columns; ++c) {
        QVERIFY2(!m.headerData(c, Qt::Horizontal).toString().isEmpty(), qPrintable(QString::number(c)));
        if (tips)
            QVERIFY2(
                !m.headerData(c, Qt::Horizontal, Qt::ToolTipRole).toString().isEmpty(), qPrintable(QString::number(c)));
    }
}
} // namespace

class TestColumnTableModel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void everyColumnHasAHeader()
    {
        checkHeader(GateTrainModel(), GateTrainModel::ColumnCount, true);
        checkHeader(GateEvalModel(), GateEvalModel::ColumnCount, true);
        checkHeader(HeadStatsModel(), HeadStatsModel::ColumnCount, true);
        checkHeader(SparsityPointModel(), SparsityPointModel::ColumnCount, true);
        checkHeader(TraceTableModel(), TraceTableModel::ColumnCount, true);
        checkHeader(RunListModel(), RunListModel::ColumnCount, true);
        checkHeader(PpaRunListModel(), PpaRunListModel::ColumnCount, false);
        checkHeader(BlockShareModel(), BlockShareModel::ColumnCount, false);
        checkHeader(PpaPointModel(), PpaPointModel::ColumnCount, false);
    }

    // A resumed run re-reports from an earlier step: the rows from there on are replaced, never
    // doubled, and the views hear of each removal and insertion.
    void rowsAreDroppedFromARepeatedStep()
    {
        GateTrainModel m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        for (int s = 0; s < 5; ++s)
            m.appendStep(step(s, 10.0 - s));
        QCOMPARE(m.rowCount(), 5);
        m.appendStep(step(2, 0.5));
        QCOMPARE(m.rowCount(), 3);
        QCOMPARE(m.value(2, GateTrainModel::Loss), 0.5);
        QCOMPARE(m.value(1, GateTrainModel::Loss), 9.0);
        QCOMPARE(m.data(m.index(2, GateTrainModel::Loss), GateTrainModel::ValueRole).toDouble(), 0.5);
        QCOMPARE(m.data(m.index(2, GateTrainModel::Step)).toLongLong(), 2);
        QCOMPARE(m.data(m.index(2, GateTrainModel::Loss), Qt::TextAlignmentRole).toInt(),
            int(Qt::AlignRight | Qt::AlignVCenter));
        m.clear();
        QCOMPARE(m.rowCount(), 0);
    }
};

QTEST_MAIN(TestColumnTableModel)
#include "tst_columntablemodel.moc"
