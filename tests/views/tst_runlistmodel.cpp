// The run list: summaries of runs made from their info and steps, and the table that shows them.
#include "runlistmodel.h"
#include "runsummary.h"
#include "store/experimentfile.h"

#include "synthetictrace.h"

#include <QAbstractItemModelTester>
#include <QTest>

using namespace blockscope;
using namespace blockscope::views;
using blockscope::test::greedySteps;

namespace {
RunInfo info(const std::string &id, PruneMethod method, const std::string &status)
{
    RunInfo i;
    i.id = id;
    i.options.method = method;
    i.status = status;
    i.layers = 4;
    i.densePerplexity = 32.96;
    return i;
}

} // namespace

class TestRunListModel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void summaryOfAGreedyRun()
    {
        const auto steps = greedySteps({{UnitKind::Block, 2}, {UnitKind::Block, 1}}, {41.0, 58.5});
        const RunSummary s = RunSummary::of(info("run-0001", PruneMethod::Sleb, "complete"), steps);
        QCOMPARE(s.id, QStringLiteral("run-0001"));
        QCOMPARE(s.method, QStringLiteral("sleb"));
        QCOMPARE(s.status, QStringLiteral("complete"));
        QCOMPARE(s.steps, 2);
        QCOMPARE(s.unitsRemoved, 4); // two blocks: four sublayers
        QCOMPARE(s.removed, QStringLiteral("block 2, block 1"));
        QCOMPARE(s.finalPerplexity, 58.5);
        QCOMPARE(s.finalKl, 0.2);
        QCOMPARE(s.densePerplexity, 32.96);
        QCOMPARE(s.seriesName(), QStringLiteral("run-0001 sleb"));
    }

    void summaryTakesLastEvaluatedStep()
    {
        auto steps = greedySteps({{UnitKind::Attention, 3}, {UnitKind::Mlp, 0}}, {40.0, TraceStep::NaN});
        const RunSummary s = RunSummary::of(info("run-0002", PruneMethod::FinerCut, "cancelled"), steps);
        QCOMPARE(s.finalPerplexity, 40.0);
        QCOMPARE(s.removed, QStringLiteral("attn 3, mlp 0"));
        QCOMPARE(s.unitsRemoved, 2);
    }

    void summaryWithoutOrderDescribesTheMask()
    {
        // EvoPress: no removal order, only the configuration.
        TraceStep s;
        s.mask = UnitMask::dense(4);
        s.mask.skipAttn[1] = true;
        s.mask.skipMlp[3] = true;
        s.perplexity = 50;
        const RunSummary summary = RunSummary::of(info("run-0003", PruneMethod::EvoPress, "complete"), {s});
        QCOMPARE(summary.removed, QStringLiteral("attn 1, mlp 3"));
        QCOMPARE(summary.unitsRemoved, 2);
    }

    void summaryOfAnEmptyRun()
    {
        RunInfo i = info("", PruneMethod::Sleb, "running");
        i.label = "baseline";
        const RunSummary s = RunSummary::of(i, {});
        QCOMPARE(s.steps, 0);
        QVERIFY(std::isnan(s.finalPerplexity));
        QCOMPARE(s.seriesName(), QStringLiteral("sleb (running) \u00b7 baseline"));
    }

    void passesModelTester()
    {
        RunListModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const auto steps = greedySteps({{UnitKind::Block, 2}}, {41.0});
        model.appendRun(RunSummary::of(info("run-0001", PruneMethod::Sleb, "complete"), steps));
        model.appendRun(RunSummary::of(info("", PruneMethod::EvoPress, "running"), {}));
        model.updateRun(1, RunSummary::of(info("run-0002", PruneMethod::EvoPress, "cancelled"), steps));
        model.removeRun(0);
        model.setRuns({});
    }

    void cells()
    {
        RunListModel model;
        const auto steps = greedySteps({{UnitKind::Block, 2}, {UnitKind::Block, 1}}, {41.0, 58.5});
        model.appendRun(RunSummary::of(info("run-0001", PruneMethod::Sleb, "complete"), steps));
        model.appendRun(RunSummary::of(info("", PruneMethod::FinerCut, "running"), {}));
        auto cell
            = [&](int row, int column, int role = Qt::DisplayRole) { return model.index(row, column).data(role); };
        QCOMPARE(cell(0, RunListModel::Id).toString(), QStringLiteral("run-0001"));
        QCOMPARE(cell(0, RunListModel::Method).toString(), QStringLiteral("sleb"));
        QCOMPARE(cell(0, RunListModel::Status).toString(), QStringLiteral("complete"));
        QCOMPARE(cell(0, RunListModel::Steps).toInt(), 2);
        QCOMPARE(cell(0, RunListModel::Removed).toString(), QStringLiteral("block 2, block 1"));
        QCOMPARE(cell(0, RunListModel::FinalPerplexity).toString(), QStringLiteral("58.5"));
        QCOMPARE(cell(0, RunListModel::FinalPerplexity, RunListModel::SortRole).toDouble(), 58.5);
        QCOMPARE(cell(0, RunListModel::FinalPerplexity, Qt::ToolTipRole).toString(), QStringLiteral("dense: 32.96"));
        QCOMPARE(cell(1, RunListModel::Id).toString(), QStringLiteral("(unsaved)"));
        QVERIFY(!cell(1, RunListModel::FinalPerplexity).isValid());
        QCOMPARE(
            model.headerData(RunListModel::FinalPerplexity, Qt::Horizontal).toString(), QStringLiteral("Final PPL"));
    }
};

QTEST_MAIN(TestRunListModel)
#include "tst_runlistmodel.moc"
