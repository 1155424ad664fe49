// The layer map widget: cells painted in their score colours, removed units hatched, clicks that
// ask for what-if toggles (sublayer, or the whole block with a right click, Shift or the label).
#include "layermap.h"

#include <QApplication>
#include <QScrollArea>
#include <QSignalSpy>
#include <QTest>
#include <QWheelEvent>

#include <cmath>

using namespace blockscope;
using namespace blockscope::views;

Q_DECLARE_METATYPE(Qt::MouseButton)

namespace {
LayerMapData sample()
{
    LayerMapData d = LayerMapData::dense(4);
    d.attnScore = {10, 20, std::nan(""), 40};
    d.mlpScore = {15, 25, std::nan(""), 35};
    d.removed.skipBlock(2);
    d.attnOrder[2] = d.mlpOrder[2] = 1;
    d.title = QStringLiteral("run-0001 sleb");
    d.scoreLabel = QStringLiteral("calibration PPL without the block");
    return d;
}
} // namespace

class TestLayerMap : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { qRegisterMetaType<blockscope::UnitKind>(); }

    void clicks_data()
    {
        QTest::addColumn<int>("layer");
        QTest::addColumn<int>("column"); // -1: the block label
        QTest::addColumn<Qt::MouseButton>("button");
        QTest::addColumn<Qt::KeyboardModifiers>("modifiers");
        QTest::addColumn<int>("kind");
        QTest::newRow("attention cell") << 1 << 0 << Qt::LeftButton << Qt::KeyboardModifiers()
                                        << int(UnitKind::Attention);
        QTest::newRow("mlp cell") << 3 << 1 << Qt::LeftButton << Qt::KeyboardModifiers() << int(UnitKind::Mlp);
        QTest::newRow("right click: block")
            << 0 << 1 << Qt::RightButton << Qt::KeyboardModifiers() << int(UnitKind::Block);
        QTest::newRow("shift click: block")
            << 2 << 0 << Qt::LeftButton << Qt::KeyboardModifiers(Qt::ShiftModifier) << int(UnitKind::Block);
        QTest::newRow("block label") << 3 << -1 << Qt::LeftButton << Qt::KeyboardModifiers() << int(UnitKind::Block);
    }
    void clicks()
    {
        QFETCH(int, layer);
        QFETCH(int, column);
        QFETCH(Qt::MouseButton, button);
        QFETCH(Qt::KeyboardModifiers, modifiers);
        QFETCH(int, kind);
        LayerMap map;
        map.resize(400, 500);
        map.setData(sample());
        QSignalSpy toggled(&map, &LayerMap::unitToggled);
        const auto g = map.mapGeometry();
        const QPoint at = column < 0 ? g.rowLabelRect(layer).center() : g.cellRect(layer, column).center();
        QTest::mouseClick(&map, button, modifiers, at);
        QCOMPARE(toggled.count(), 1);
        QCOMPARE(int(toggled.at(0).at(0).value<UnitKind>()), kind);
        QCOMPARE(toggled.at(0).at(1).toInt(), layer);
    }

    void readOnlyMapIgnoresClicks()
    {
        LayerMap map;
        map.resize(400, 500);
        map.setData(sample());
        map.setInteractive(false);
        QSignalSpy toggled(&map, &LayerMap::unitToggled);
        QTest::mouseClick(&map, Qt::LeftButton, {}, map.mapGeometry().cellRect(0, 0).center());
        QCOMPARE(toggled.count(), 0);
    }

    void clickOutsideCellsDoesNothing()
    {
        LayerMap map;
        map.resize(400, 500);
        map.setData(sample());
        QSignalSpy toggled(&map, &LayerMap::unitToggled);
        QTest::mouseClick(&map, Qt::LeftButton, {}, QPoint(2, 2));
        QCOMPARE(toggled.count(), 0);
    }

    void paintsScoresAndRemovedUnits()
    {
        LayerMap map;
        map.resize(400, 500);
        map.setData(sample());
        const QImage image = map.grab().toImage();
        const auto g = map.mapGeometry();
        // Scores of the units still standing span the palette: 10 at the dark end, 40 at the bright.
        QCOMPARE(map.colourMap().low, 10.0);
        QCOMPARE(map.colourMap().high, 40.0);
        auto corner = [&](int l, int c) { return image.pixelColor(g.cellRect(l, c).topLeft() + QPoint(2, 2)); };
        QCOMPARE(corner(0, 0), ScoreColourMap::atPosition(0));
        QCOMPARE(corner(3, 0), ScoreColourMap::atPosition(1));
        QCOMPARE(corner(1, 1), map.colourMap().colour(25));
        // Block 2 is removed: grey and hatched, not a score colour.
        bool grey = true;
        const QRect removed = g.cellRect(2, 0);
        for (int x = removed.left() + 1; x < removed.left() + 12; ++x) {
            const QColor c = image.pixelColor(x, removed.top() + 2);
            grey = grey && c.red() == c.green() && c.green() == c.blue();
        }
        QVERIFY(grey);
    }

    void whatIfOutlineDrawn()
    {
        LayerMap map;
        map.resize(400, 500);
        map.setData(sample());
        const QImage before = map.grab().toImage();
        UnitMask mask = UnitMask::dense(4);
        mask.skipAttn[1] = true;
        map.setWhatIfMask(mask);
        const QImage after = map.grab().toImage();
        const QRect cell = map.mapGeometry().cellRect(1, 0);
        QVERIFY(before.pixelColor(cell.topLeft() + QPoint(1, 1)) != after.pixelColor(cell.topLeft() + QPoint(1, 1)));
        QVERIFY(map.cellDescription(1, 0).contains(QStringLiteral("off for what-if")));
        QVERIFY(!map.cellDescription(1, 1).contains(QStringLiteral("what-if")));
    }

    void descriptions_data()
    {
        QTest::addColumn<int>("layer");
        QTest::addColumn<int>("column");
        QTest::addColumn<QString>("text");
        QTest::newRow("scored attention") << 0 << 0 << "Block 0 attention \u00b7 calibration PPL without the block: 10";
        QTest::newRow("removed first") << 2 << 1 << "Block 2 MLP \u00b7 removed 1st";
        QTest::newRow("out of range") << 4 << 0 << "";
    }
    void descriptions()
    {
        QFETCH(int, layer);
        QFETCH(int, column);
        QFETCH(QString, text);
        LayerMap map;
        map.setData(sample());
        QCOMPARE(map.cellDescription(layer, column), text);
    }

    void emptyMapPaints()
    {
        LayerMap map;
        map.resize(300, 300);
        map.setData(LayerMapData::dense(0));
        QVERIFY(!map.grab().isNull());
        QCOMPARE(map.mapGeometry().hitTest(QPoint(100, 100)).part, LayerMapGeometry::Hit::Part::None);
    }

    // 80 blocks in a scroll area: Ctrl+wheel makes the rows taller (the map scrolls further), a
    // plain wheel is left to the scroll area, and the zoom stays between the row heights' bounds.
    void zoomsRowsInAScrollArea()
    {
        QScrollArea area;
        area.setWidgetResizable(true);
        auto *map = new LayerMap;
        map->setData(LayerMapData::dense(80));
        area.setWidget(map);
        area.resize(400, 500);
        area.show();
        QVERIFY(QTest::qWaitForWindowExposed(&area));
        const int before = map->height();
        QCOMPARE(map->mapGeometry().rowHeight(), LayerMapGeometry::minRowHeight);
        auto wheel = [&](int delta, Qt::KeyboardModifiers modifiers) {
            QWheelEvent e(QPointF(50, 50), map->mapToGlobal(QPointF(50, 50)), QPoint(), QPoint(0, delta), Qt::NoButton,
                modifiers, Qt::NoScrollPhase, false);
            QApplication::sendEvent(map, &e);
            QApplication::processEvents();
        };
        wheel(120, Qt::NoModifier);
        QCOMPARE(map->zoom(), 1.0);
        wheel(120, Qt::ControlModifier);
        wheel(120, Qt::ControlModifier);
        QCOMPARE(map->zoom(), 1.5625);
        QTRY_VERIFY(map->height() > before);
        QCOMPARE(map->mapGeometry().rowHeight(), 22); // 14 x 1.5625, rounded
        for (int i = 0; i < 10; ++i)
            wheel(120, Qt::ControlModifier);
        QCOMPARE(map->zoom(), LayerMap::maxZoom());
        QTRY_COMPARE(map->mapGeometry().rowHeight(), LayerMapGeometry::maxRowHeight);
        for (int i = 0; i < 10; ++i)
            wheel(-120, Qt::ControlModifier);
        QCOMPARE(map->zoom(), 1.0);
        QTRY_COMPARE(map->height(), before);
    }
};

QTEST_MAIN(TestLayerMap)
#include "tst_layermap.moc"
