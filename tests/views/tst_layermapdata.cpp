// What the layer map shows for a trace step: scores per cell, removed units and their order.
#include "layermapdata.h"
#include "prune/pruneoptions.h"
#include "prune/trace.h"

#include <QTest>

#include <cmath>

using namespace blockscope;
using namespace blockscope::views;

class TestLayerMapData : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void denseHasNothing()
    {
        const auto d = LayerMapData::dense(3);
        QCOMPARE(d.layers, 3);
        QCOMPARE(d.removed.skippedUnits(), 0);
        QVERIFY(!d.hasScores());
        QCOMPARE(d.attnOrder, std::vector<int>(3, 0));
        QCOMPARE(LayerMapData::dense(-2).layers, 0);
    }

    void blockCandidatesColourBothCells()
    {
        // SLEB after its second step: blocks 2 then 0 removed, blocks 1 and 3 scored.
        TraceStep s;
        s.mask = UnitMask::dense(4);
        s.mask.skipBlock(2);
        s.mask.skipBlock(0);
        s.removedSoFar = {{UnitKind::Block, 2}, {UnitKind::Block, 0}};
        s.candidates
            = {{{UnitKind::Block, 0}, 70.0, 0}, {{UnitKind::Block, 1}, 80.0, 1}, {{UnitKind::Block, 3}, 95.0, 2}};
        const auto d = LayerMapData::fromStep(s, 4);
        QCOMPARE(d.layers, 4);
        QCOMPARE(d.attnScore[1], 80.0);
        QCOMPARE(d.mlpScore[1], 80.0);
        QCOMPARE(d.mlpScore[3], 95.0);
        QVERIFY(std::isnan(d.attnScore[2]));
        QCOMPARE(d.attnOrder, (std::vector<int>{2, 0, 1, 0}));
        QCOMPARE(d.mlpOrder, (std::vector<int>{2, 0, 1, 0}));
        QVERIFY(d.removed.blockSkipped(2));
        QVERIFY(d.hasScores());
    }

    void sublayerCandidatesColourTheirCell()
    {
        // FinerCut: attn 3 went first, then mlp 3, then attn 1.
        TraceStep s;
        s.mask = UnitMask::dense(4);
        s.mask.skipAttn[3] = s.mask.skipMlp[3] = s.mask.skipAttn[1] = true;
        s.removedSoFar = {{UnitKind::Attention, 3}, {UnitKind::Mlp, 3}, {UnitKind::Attention, 1}};
        s.candidates = {{{UnitKind::Attention, 0}, 0.5, 0}, {{UnitKind::Mlp, 0}, 0.25, 1}};
        const auto d = LayerMapData::fromStep(s, 4);
        QCOMPARE(d.attnScore[0], 0.5);
        QCOMPARE(d.mlpScore[0], 0.25);
        QVERIFY(std::isnan(d.attnScore[2]));
        QCOMPARE(d.attnOrder, (std::vector<int>{0, 3, 0, 1}));
        QCOMPARE(d.mlpOrder, (std::vector<int>{0, 0, 0, 2}));
    }

    void oneShotUsesBlockScoresAndChosenOrder()
    {
        TraceStep s;
        s.kind = "one-shot";
        s.mask = UnitMask::dense(3);
        s.mask.skipBlock(1);
        s.mask.skipBlock(2);
        s.chosen = {{UnitKind::Block, 2}, {UnitKind::Block, 1}};
        s.blockScores = {0.9, 0.1, 0.05};
        const auto d = LayerMapData::fromStep(s, 3);
        QCOMPARE(d.attnScore, (std::vector<double>{0.9, 0.1, 0.05}));
        QCOMPARE(d.attnOrder, (std::vector<int>{0, 2, 1}));
    }

    void evoPressHasMaskOnly()
    {
        TraceStep s;
        s.kind = "generation";
        s.mask = UnitMask::dense(4);
        s.mask.skipAttn[2] = true;
        s.mask.skipMlp[0] = true;
        const auto d = LayerMapData::fromStep(s, 4);
        QVERIFY(!d.hasScores());
        QVERIFY(d.removed.skipAttn[2]);
        QVERIFY(d.removed.skipMlp[0]);
        QCOMPARE(d.attnOrder, std::vector<int>(4, 0));
    }

    void outOfRangeUnitsIgnored()
    {
        TraceStep s;
        s.mask = UnitMask::dense(2);
        s.candidates = {{{UnitKind::Attention, 7}, 1.0, 0}};
        s.removedSoFar = {{UnitKind::Block, -1}};
        const auto d = LayerMapData::fromStep(s, 2);
        QVERIFY(!d.hasScores());
        QCOMPARE(d.attnOrder, std::vector<int>(2, 0));
    }

    void stepWithoutMaskTakesModelSize()
    {
        const auto d = LayerMapData::fromStep(TraceStep{}, 5);
        QCOMPARE(d.layers, 5);
    }

    void scoreLabels()
    {
        PruneOptions o;
        o.method = PruneMethod::FinerCut;
        o.finercutMetric = "js";
        QCOMPARE(LayerMapData::scoreLabelFor(o), QStringLiteral("JS to dense without the unit"));
        o.method = PruneMethod::Sleb;
        QCOMPARE(LayerMapData::scoreLabelFor(o), QStringLiteral("calibration NLL sum without the block"));
    }
};

QTEST_MAIN(TestLayerMapData)
#include "tst_layermapdata.moc"
