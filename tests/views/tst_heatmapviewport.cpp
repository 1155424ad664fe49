// Zoom and pan of a heatmap as plain maths: fitting, zooming about a point, the limits, panning
// that never loses the map, hit-testing cells and the range of visible cells.
#include "heatmapviewport.h"

#include <QTest>

using namespace blockscope::views;

namespace {
HeatmapViewport fitted(int cells, const QRectF &area)
{
    HeatmapViewport v;
    v.cells = cells;
    v.area = area;
    v.fit();
    return v;
}

bool near(const QPointF &a, const QPointF &b)
{
    return std::abs(a.x() - b.x()) < 1e-9 && std::abs(a.y() - b.y()) < 1e-9;
}
} // namespace

class TestHeatmapViewport : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void fit_data()
    {
        QTest::addColumn<int>("cells");
        QTest::addColumn<QRectF>("area");
        QTest::addColumn<double>("scale");
        QTest::addColumn<QPointF>("origin");
        QTest::newRow("32 blocks in 320 px") << 32 << QRectF(10, 20, 320, 320) << 10.0 << QPointF(10, 20);
        QTest::newRow("512 blocks in 256 px: half a pixel each")
            << 512 << QRectF(0, 0, 256, 256) << 0.5 << QPointF(0, 0);
        QTest::newRow("wide area: centred across") << 10 << QRectF(0, 0, 300, 100) << 10.0 << QPointF(100, 0);
        QTest::newRow("tall area: centred down") << 10 << QRectF(0, 0, 100, 300) << 10.0 << QPointF(0, 100);
    }
    void fit()
    {
        QFETCH(int, cells);
        QFETCH(QRectF, area);
        QFETCH(double, scale);
        QFETCH(QPointF, origin);
        const auto v = fitted(cells, area);
        QCOMPARE(v.scale, scale);
        QCOMPARE(v.origin, origin);
        QVERIFY(v.isFitted());
        QCOMPARE(v.zoom(), 1.0);
        QCOMPARE(v.visibleCells(), QRect(0, 0, cells, cells));
    }

    void zoomKeepsTheAnchoredCellStill_data()
    {
        QTest::addColumn<QPointF>("anchor");
        QTest::addColumn<double>("factor");
        QTest::newRow("centre, 2x") << QPointF(160, 160) << 2.0;
        QTest::newRow("top-left corner, 4x") << QPointF(0, 0) << 4.0;
        QTest::newRow("off-centre, 3x") << QPointF(250, 70) << 3.0;
    }
    void zoomKeepsTheAnchoredCellStill()
    {
        QFETCH(QPointF, anchor);
        QFETCH(double, factor);
        auto v = fitted(32, QRectF(0, 0, 320, 320));
        const QPointF before = v.toCell(anchor);
        v.zoomAt(anchor, factor);
        QCOMPARE(v.scale, 10.0 * factor);
        QVERIFY(near(v.toCell(anchor), before));
        QVERIFY(!v.isFitted());
        QCOMPARE(v.zoom(), factor);
    }

    void zoomIsClamped()
    {
        auto v = fitted(32, QRectF(0, 0, 320, 320));
        v.zoomAt(QPointF(100, 100), 0.1); // never smaller than fit
        QCOMPARE(v.scale, 10.0);
        v.zoomAt(QPointF(100, 100), 1000); // at most 64 pixels a cell
        QCOMPARE(v.scale, HeatmapViewport::maxScale);
        // A map smaller than the area at fit already: fit is also the upper limit.
        auto small = fitted(2, QRectF(0, 0, 400, 400));
        small.zoomAt(QPointF(10, 10), 2);
        QCOMPARE(small.scale, 200.0);
        QVERIFY(small.isFitted());
    }

    void panStaysOnTheMap()
    {
        auto v = fitted(32, QRectF(0, 0, 320, 320));
        v.panBy(QPointF(50, 50)); // fitted: nothing to pan
        QCOMPARE(v.origin, QPointF(0, 0));
        v.zoomAt(QPointF(0, 0), 2); // 640 px of map in 320
        v.panBy(QPointF(-100, -30));
        QCOMPARE(v.origin, QPointF(-100, -30));
        v.panBy(QPointF(-1000, -1000)); // stops at the bottom-right edge
        QCOMPARE(v.origin, QPointF(-320, -320));
        v.panBy(QPointF(5000, 0)); // and at the left edge
        QCOMPARE(v.origin.x(), 0.0);
        QCOMPARE(v.visibleCells(), QRect(0, 16, 16, 16));
    }

    void cellAt_data()
    {
        QTest::addColumn<QPointF>("point");
        QTest::addColumn<bool>("hit");
        QTest::addColumn<QPoint>("cell");
        QTest::newRow("first cell") << QPointF(10.5, 20.5) << true << QPoint(0, 0);
        QTest::newRow("column 3, row 1") << QPointF(10 + 35, 20 + 15) << true << QPoint(3, 1);
        QTest::newRow("last cell") << QPointF(10 + 319.5, 20 + 319.5) << true << QPoint(31, 31);
        QTest::newRow("left of the area") << QPointF(5, 30) << false << QPoint();
        QTest::newRow("below the area") << QPointF(50, 345) << false << QPoint();
    }
    void cellAt()
    {
        QFETCH(QPointF, point);
        QFETCH(bool, hit);
        QFETCH(QPoint, cell);
        const auto v = fitted(32, QRectF(10, 20, 320, 320));
        const auto got = v.cellAt(point);
        QCOMPARE(got.has_value(), hit);
        if (hit) {
            QCOMPARE(*got, cell);
            QVERIFY(v.cellRect(cell.y(), cell.x()).contains(point));
        }
    }

    void resizingKeepsZoomAndCentre()
    {
        auto v = fitted(64, QRectF(0, 0, 320, 320));
        v.zoomAt(QPointF(100, 220), 4);
        const QPointF centre = v.centreCell();
        v.setArea(QRectF(0, 0, 640, 640));
        QCOMPARE(v.zoom(), 4.0);
        QVERIFY(near(v.centreCell(), centre));
        auto f = fitted(64, QRectF(0, 0, 320, 320));
        f.setArea(QRectF(0, 0, 128, 128)); // a fitted map stays fitted
        QVERIFY(f.isFitted());
        QCOMPARE(f.scale, 2.0);
    }

    void linkedViewsShareZoomAndCentre()
    {
        auto a = fitted(100, QRectF(0, 0, 500, 500));
        auto b = fitted(100, QRectF(0, 0, 300, 300));
        a.zoomAt(QPointF(400, 100), 3);
        b.setZoomAndCentre(a.zoom(), a.centreCell());
        QCOMPARE(b.zoom(), 3.0);
        QVERIFY(near(b.centreCell(), a.centreCell()));
    }

    void emptyMapHasNoCells()
    {
        HeatmapViewport v;
        v.area = QRectF(0, 0, 100, 100);
        v.fit();
        QVERIFY(!v.cellAt(QPointF(5, 5)));
        QVERIFY(v.visibleCells().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestHeatmapViewport)
#include "tst_heatmapviewport.moc"
