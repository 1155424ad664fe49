// Two runs side by side: the rows, which of them differ, and the units only one run removed.
#include "runcomparemodel.h"
#include "store/experimentfile.h"
#include "synthetictrace.h"

#include <QAbstractItemModelTester>
#include <QTest>

using namespace blockscope;
using namespace blockscope::views;

namespace {
ExperimentRun run(const std::string &id, PruneMethod method, const std::vector<Unit> &order, double ppl)
{
    ExperimentRun r;
    r.info.id = id;
    r.info.options.method = method;
    r.info.status = "complete";
    r.info.layers = 4;
    r.info.densePerplexity = 32.96;
    r.steps = test::greedySteps(order, std::vector<double>(order.size(), ppl));
    return r;
}

QString cell(const RunCompareModel &m, const QString &row, int column)
{
    return m.index(m.rowNamed(row), column).data().toString();
}
bool differs(const RunCompareModel &m, const QString &row)
{
    return m.index(m.rowNamed(row), 0).data(RunCompareModel::DiffersRole).toBool();
}
} // namespace

class TestRunCompareModel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void passesModelTester()
    {
        RunCompareModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setRuns(run("run-0001", PruneMethod::Sleb, {{UnitKind::Block, 2}}, 40),
            run("run-0002", PruneMethod::FinerCut, {{UnitKind::Attention, 3}}, 35));
        model.clear();
        model.setRuns(run("a", PruneMethod::Sleb, {}, 40), run("b", PruneMethod::Sleb, {}, 40));
    }

    void blockAgainstSublayers()
    {
        RunCompareModel model;
        // SLEB removed block 2; FinerCut removed attn 2 and attn 3. Block 2 covers attn 2 but not
        // mlp 2, so block 2 is only in SLEB; attn 3 is only in FinerCut, attn 2 in both.
        model.setRuns(run("run-0001", PruneMethod::Sleb, {{UnitKind::Block, 2}}, 41.5),
            run("run-0002", PruneMethod::FinerCut, {{UnitKind::Attention, 2}, {UnitKind::Attention, 3}}, 36));
        QCOMPARE(model.columnCount(), 2);
        QCOMPARE(model.headerData(0, Qt::Horizontal).toString(), QStringLiteral("run-0001 sleb"));
        QCOMPARE(model.headerData(1, Qt::Horizontal).toString(), QStringLiteral("run-0002 finercut"));
        QCOMPARE(model.headerData(model.rowNamed(QStringLiteral("Final PPL")), Qt::Vertical).toString(),
            QStringLiteral("Final PPL"));
        QCOMPARE(cell(model, QStringLiteral("Method"), 0), QStringLiteral("sleb"));
        QCOMPARE(cell(model, QStringLiteral("Removed, in order"), 0), QStringLiteral("block 2"));
        QCOMPARE(cell(model, QStringLiteral("Removed, in order"), 1), QStringLiteral("attn 2, attn 3"));
        QCOMPARE(cell(model, QStringLiteral("Units removed"), 0), QStringLiteral("2"));
        QCOMPARE(cell(model, QStringLiteral("Units removed"), 1), QStringLiteral("2"));
        QCOMPARE(cell(model, QStringLiteral("Only in this run"), 0), QStringLiteral("block 2"));
        QCOMPARE(cell(model, QStringLiteral("Only in this run"), 1), QStringLiteral("attn 3"));
        QCOMPARE(cell(model, QStringLiteral("Final PPL"), 0), QStringLiteral("41.5"));
        QCOMPARE(cell(model, QStringLiteral("Final PPL"), 1), QStringLiteral("36"));
        QVERIFY(differs(model, QStringLiteral("Method")));
        QVERIFY(differs(model, QStringLiteral("Final PPL")));
        QVERIFY(differs(model, QStringLiteral("Only in this run")));
        QVERIFY(!differs(model, QStringLiteral("Units removed")));
        QVERIFY(!differs(model, QStringLiteral("Dense PPL")));
        QVERIFY(model.index(model.rowNamed(QStringLiteral("Method")), 0).data(Qt::FontRole).value<QFont>().bold());
    }

    void sameRemovalHasNothingOnlyInOne()
    {
        RunCompareModel model;
        model.setRuns(run("run-0001", PruneMethod::Sleb, {{UnitKind::Block, 2}, {UnitKind::Block, 1}}, 50),
            run("run-0003", PruneMethod::Sleb, {{UnitKind::Block, 1}, {UnitKind::Block, 2}}, 50));
        QCOMPARE(cell(model, QStringLiteral("Only in this run"), 0), QStringLiteral("none"));
        QCOMPARE(cell(model, QStringLiteral("Only in this run"), 1), QStringLiteral("none"));
        QVERIFY(!differs(model, QStringLiteral("Only in this run")));
        QVERIFY(differs(model, QStringLiteral("Removed, in order")));
    }

    void clearEmpties()
    {
        RunCompareModel model;
        model.setRuns(run("a", PruneMethod::Sleb, {}, 1), run("b", PruneMethod::Sleb, {}, 1));
        QVERIFY(model.rowCount() > 0);
        model.clear();
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(model.columnCount(), 0);
        QCOMPARE(model.rowNamed(QStringLiteral("Method")), -1);
    }
};

QTEST_MAIN(TestRunCompareModel)
#include "tst_runcomparemodel.moc"
