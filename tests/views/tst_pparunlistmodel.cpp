// The PPA page's list of runs and sweeps: one row each, a check box for "on the chart", what was
// measured where.
#include "pparunlistmodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace blockscope::views;

class TestPpaRunListModel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void listsAndChecks()
    {
        PpaRunListModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setEntries({{"run-0001", "run-0001 sleb", false, 3, "cpu (test, 1 thread)", true},
            {"sweep-0001", "sweep-0001 gates", true, 0, QString(), true}});
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.rowForId(QStringLiteral("sweep-0001")), 1);
        QCOMPARE(model.rowForId(QStringLiteral("run-0009")), -1);
        QCOMPARE(model.data(model.index(0, PpaRunListModel::Measured)).toString(), QStringLiteral("yes"));
        QCOMPARE(model.data(model.index(1, PpaRunListModel::Measured)).toString(), QStringLiteral("\u2014"));
        QVERIFY(model.data(model.index(0, PpaRunListModel::Name), Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("measured on cpu (test, 1 thread)")));
        QVERIFY(model.flags(model.index(0, PpaRunListModel::Name)) & Qt::ItemIsUserCheckable);
        QCOMPARE(model.data(model.index(0, PpaRunListModel::Name), Qt::CheckStateRole).toInt(), int(Qt::Checked));

        QSignalSpy shown(&model, &PpaRunListModel::shownChanged);
        QVERIFY(model.setData(model.index(0, PpaRunListModel::Name), Qt::Unchecked, Qt::CheckStateRole));
        QCOMPARE(shown.count(), 1);
        QCOMPARE(shown.at(0).at(1).toBool(), false);
        QVERIFY(!model.entry(0).shown);
        model.setShown(0, false); // no change, no signal
        QCOMPARE(shown.count(), 1);

        auto e = model.entry(1);
        e.points = 4;
        model.updateEntry(1, e);
        QCOMPARE(model.data(model.index(1, PpaRunListModel::Measured)).toString(), QStringLiteral("no"));
        QVERIFY(model.data(model.index(1, PpaRunListModel::Name), Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("modelled only")));
    }
};

QTEST_MAIN(TestPpaRunListModel)
#include "tst_pparunlistmodel.moc"
