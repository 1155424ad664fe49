// Layer map layout and hit testing, without a widget: rows fit the height within their bounds,
// cells never overlap, and every point maps to the cell, the block label or nothing.
#include "layermapgeometry.h"

#include <QTest>

using namespace blockscope::views;
using Hit = LayerMapGeometry::Hit;
using Part = Hit::Part;

Q_DECLARE_METATYPE(Hit)

class TestLayerMapGeometry : public QObject
{
    Q_OBJECT
private:
    static LayerMapGeometry make(int w, int h, int layers) { return LayerMapGeometry{QSize(w, h), layers}; }

private Q_SLOTS:
    void rowHeight_data()
    {
        QTest::addColumn<int>("height");
        QTest::addColumn<int>("layers");
        QTest::addColumn<int>("rowHeight");
        const int chrome = 2 * LayerMapGeometry::margin + LayerMapGeometry::titleHeight + LayerMapGeometry::headerHeight
            + LayerMapGeometry::legendHeight;
        QTest::newRow("few blocks capped at the maximum") << 900 << 4 << LayerMapGeometry::maxRowHeight;
        QTest::newRow("rows share the height") << chrome + 32 * 20 << 32 << 20;
        QTest::newRow("remainder pixels unused") << chrome + 32 * 20 + 31 << 32 << 20;
        QTest::newRow("many blocks floored at the minimum") << 300 << 80 << LayerMapGeometry::minRowHeight;
        QTest::newRow("no model") << 300 << 0 << LayerMapGeometry::maxRowHeight;
    }
    void rowHeight()
    {
        QFETCH(int, height);
        QFETCH(int, layers);
        QFETCH(int, rowHeight);
        QCOMPARE(make(400, height, layers).rowHeight(), rowHeight);
    }

    void columnsShareWidthUpToMaximum()
    {
        const int fixed = 2 * LayerMapGeometry::margin + LayerMapGeometry::labelWidth;
        QCOMPARE(make(fixed + 2 * 100, 400, 4).columnWidth(), 100);
        QCOMPARE(make(fixed + 2 * 100 + 1, 400, 4).columnWidth(), 100);
        QCOMPARE(make(2000, 400, 4).columnWidth(), LayerMapGeometry::maxColumnWidth);
        QCOMPARE(make(10, 400, 4).columnWidth(), 1);
    }

    void cellsTileTheGridWithoutOverlap()
    {
        const auto g = make(400, 600, 6);
        const QRect grid = g.gridRect();
        QCOMPARE(grid.left(), LayerMapGeometry::margin + LayerMapGeometry::labelWidth);
        QCOMPARE(grid.top(), LayerMapGeometry::margin + LayerMapGeometry::titleHeight + LayerMapGeometry::headerHeight);
        for (int l = 0; l < 6; ++l)
            for (int c = 0; c < 2; ++c) {
                const QRect r = g.cellRect(l, c);
                QVERIFY(grid.contains(r));
                QCOMPARE(r.top(), grid.top() + l * g.rowHeight());
                QCOMPARE(r.left(), grid.left() + c * g.columnWidth());
                QCOMPARE(r.height(), g.rowHeight() - LayerMapGeometry::cellGap);
                if (c == 1)
                    QVERIFY(!r.intersects(g.cellRect(l, 0)));
                if (l > 0)
                    QVERIFY(!r.intersects(g.cellRect(l - 1, c)));
            }
        QVERIFY(g.legendBarRect().top() > grid.bottom());
        QVERIFY(g.headerRect(0).bottom() < grid.top());
        QVERIFY(g.titleRect().bottom() < g.headerRect(0).top());
    }

    // 80 blocks in 100 pixels: rows stay at the minimum (the map scrolls), with their gap, so a
    // small-font label and score still fit each row.
    void manyRowsKeepReadableHeight()
    {
        const auto g = make(400, 100, 80);
        QCOMPARE(g.rowHeight(), LayerMapGeometry::minRowHeight);
        QCOMPARE(g.cellRect(3, 1).height(), LayerMapGeometry::minRowHeight - LayerMapGeometry::cellGap);
        QVERIFY(LayerMapGeometry::minRowHeight >= 14);
        QCOMPARE(g.cellRect(4, 1).top() - g.cellRect(3, 1).top(), LayerMapGeometry::minRowHeight);
    }

    void outOfRangeRectsAreEmpty()
    {
        const auto g = make(400, 600, 4);
        QVERIFY(g.cellRect(4, 0).isNull());
        QVERIFY(g.cellRect(-1, 0).isNull());
        QVERIFY(g.cellRect(0, 2).isNull());
        QVERIFY(g.rowLabelRect(4).isNull());
        QVERIFY(g.headerRect(2).isNull());
    }

    void minimumHeightFitsMinimumRows()
    {
        const int h = LayerMapGeometry::minimumHeight(50);
        QCOMPARE(make(400, h, 50).rowHeight(), LayerMapGeometry::minRowHeight);
        QVERIFY(make(400, h, 50).gridRect().bottom() < h - LayerMapGeometry::legendHeight);
    }

    void hitTest_data()
    {
        // 400 x 600, 4 blocks: rows of 40, columns of 150, grid from (70, 42).
        QTest::addColumn<QPoint>("point");
        QTest::addColumn<Hit>("hit");
        QTest::newRow("first attention cell") << QPoint(71, 43) << Hit{Part::Cell, 0, 0};
        QTest::newRow("mlp cell of block 2") << QPoint(70 + 150 + 10, 42 + 2 * 40 + 20) << Hit{Part::Cell, 2, 1};
        QTest::newRow("last pixel of the grid") << QPoint(70 + 300 - 1, 42 + 160 - 1) << Hit{Part::Cell, 3, 1};
        QTest::newRow("gap between cells belongs to the cell") << QPoint(70 + 149, 42 + 39) << Hit{Part::Cell, 0, 0};
        QTest::newRow("block label") << QPoint(20, 42 + 40 + 5) << Hit{Part::RowLabel, 1, -1};
        QTest::newRow("left margin") << QPoint(2, 50) << Hit{};
        QTest::newRow("header") << QPoint(100, 30) << Hit{};
        QTest::newRow("below the last block") << QPoint(100, 42 + 160) << Hit{};
        QTest::newRow("right of the grid") << QPoint(70 + 300, 60) << Hit{};
        QTest::newRow("legend") << QPoint(100, 590) << Hit{};
    }
    void hitTest()
    {
        QFETCH(QPoint, point);
        QFETCH(Hit, hit);
        const auto g = make(400, 600, 4);
        QCOMPARE(g.rowHeight(), 40);
        QCOMPARE(g.columnWidth(), 150);
        QCOMPARE(g.gridRect().topLeft(), QPoint(70, 42));
        const Hit got = g.hitTest(point);
        QCOMPARE(int(got.part), int(hit.part));
        QCOMPARE(got.layer, hit.layer);
        QCOMPARE(got.column, hit.column);
    }

    void everyCellCentreHitsItsCell()
    {
        for (int layers : {1, 4, 32, 80}) {
            const auto g = make(380, 700, layers);
            for (int l = 0; l < layers; ++l)
                for (int c = 0; c < 2; ++c)
                    QCOMPARE(g.hitTest(g.cellRect(l, c).center()), (Hit{Part::Cell, l, c}));
        }
    }

    void noModelHitsNothing() { QCOMPARE(make(400, 600, 0).hitTest(QPoint(100, 60)), Hit{}); }
};

QTEST_APPLESS_MAIN(TestLayerMapGeometry)
#include "tst_layermapgeometry.moc"
