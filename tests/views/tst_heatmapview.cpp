// The heatmap widget: one image per data change, overlays that keep zoom and pan, zoom by wheel
// and keys around the cursor, drag to pan, double-click to fit, linked views, tooltips that name
// the cell, and a 512 x 512 map that paints quickly at any zoom.
#include "heatmapview.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>
#include <QWheelEvent>

#include <cmath>

using namespace blockscope;
using namespace blockscope::views;

namespace {
render::HeatmapFigure triangle(int n)
{
    render::HeatmapFigure f;
    f.title = QStringLiteral("Ground truth");
    f.grid = sparse::BlockGrid(n);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j <= i; ++j)
            f.grid.at(i, j) = 1.0f / static_cast<float>(i + 1);
    return f;
}

render::MaskOverlay diagonalMask(int n)
{
    sparse::BlockMask m;
    m.nb = n;
    m.cells.assign(static_cast<std::size_t>(n) * n, sparse::MaskCell::Off);
    for (int i = 0; i < n; ++i)
        m.cells[static_cast<std::size_t>(i) * n + i] = sparse::MaskCell::Selected;
    m.cells[static_cast<std::size_t>(n - 1) * n] = sparse::MaskCell::Forced;
    return render::MaskOverlay::fromMask(m);
}

void wheel(QWidget *w, QPointF at, int delta)
{
    QWheelEvent e(
        at, w->mapToGlobal(at), QPoint(), QPoint(0, delta), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
    QCoreApplication::sendEvent(w, &e);
}
} // namespace

class TestHeatmapView : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void showsDataOrWhyNot()
    {
        HeatmapView view;
        view.resize(500, 540);
        QVERIFY(!view.hasData());
        view.clear(QStringLiteral("No gates"));
        QCOMPARE(view.placeholder(), QStringLiteral("No gates"));
        view.setFigure(triangle(16));
        QVERIFY(view.hasData());
        QVERIFY(view.placeholder().isEmpty());
        QCOMPARE(view.pixels().size(), QSize(16, 16));
        QVERIFY(view.viewport().isFitted());
        const QRect plot = view.plotArea();
        QCOMPARE(plot.width(), plot.height());
        QVERIFY(plot.width() > 300);
        view.clear(QStringLiteral("gone"));
        QVERIFY(!view.hasData());
        QVERIFY(!view.viewport().cellAt(plot.center()));
    }

    void maskKeepsZoomAndRecolours()
    {
        HeatmapView view;
        view.resize(500, 540);
        view.setFigure(triangle(16));
        const QRgb before = view.pixels().pixel(0, 5);
        const QRgb diagonal = view.pixels().pixel(5, 5);
        view.zoomAt(view.plotArea().center(), 3);
        const double scale = view.viewport().scale;
        view.setMask(diagonalMask(16));
        QCOMPARE(view.viewport().scale, scale);
        QVERIFY(view.pixels().pixel(0, 5) != before); // dropped: grey now
        QCOMPARE(view.pixels().pixel(5, 5), diagonal); // kept
        // Same-size data keeps the zoom; a different size fits again.
        view.setFigure(triangle(16));
        QCOMPARE(view.viewport().scale, scale);
        view.setFigure(triangle(20));
        QVERIFY(view.viewport().isFitted());
    }

    void wheelZoomsAboutTheCursor()
    {
        HeatmapView view;
        view.resize(500, 540);
        view.setFigure(triangle(32));
        QSignalSpy changed(&view, &HeatmapView::viewChanged);
        const QPointF at = view.plotArea().center() + QPointF(40, -30);
        const QPointF cell = view.viewport().toCell(at);
        wheel(&view, at, 240); // two notches in
        QCOMPARE(changed.count(), 1);
        QVERIFY(std::abs(view.viewport().zoom() - 1.5625) < 1e-9);
        QVERIFY(std::abs(view.viewport().toCell(at).x() - cell.x()) < 1e-9);
        wheel(&view, at, -240);
        QVERIFY(view.viewport().isFitted());
    }

    void keysZoomPanAndFit()
    {
        HeatmapView view;
        view.resize(500, 540);
        view.setFigure(triangle(64));
        QTest::keyClick(&view, Qt::Key_Plus);
        QTest::keyClick(&view, Qt::Key_Plus);
        QVERIFY(view.viewport().zoom() > 1.5);
        const QPointF origin = view.viewport().origin;
        QTest::keyClick(&view, Qt::Key_Right);
        QVERIFY(view.viewport().origin.x() < origin.x());
        QTest::keyClick(&view, Qt::Key_0);
        QVERIFY(view.viewport().isFitted());
        QTest::keyClick(&view, Qt::Key_Minus); // not below fit
        QVERIFY(view.viewport().isFitted());
    }

    void dragPansAndDoubleClickFits()
    {
        HeatmapView view;
        view.resize(500, 540);
        view.setFigure(triangle(64));
        const QPoint c = view.plotArea().center();
        view.zoomAt(c, 4);
        const QPointF origin = view.viewport().origin;
        QTest::mousePress(&view, Qt::LeftButton, Qt::NoModifier, c);
        QTest::mouseMove(&view, c + QPoint(-60, -20));
        QTest::mouseRelease(&view, Qt::LeftButton, Qt::NoModifier, c + QPoint(-60, -20));
        QCOMPARE(view.viewport().origin, origin + QPointF(-60, -20));
        QTest::mouseDClick(&view, Qt::LeftButton, Qt::NoModifier, c);
        QVERIFY(view.viewport().isFitted());
    }

    void linkedViewsFollow()
    {
        HeatmapView a, b;
        a.resize(500, 540);
        b.resize(400, 440);
        a.setFigure(triangle(32));
        b.setFigure(triangle(32));
        connect(&a, &HeatmapView::viewChanged, &b, &HeatmapView::setZoomAndCentre);
        QSignalSpy bChanged(&b, &HeatmapView::viewChanged);
        a.zoomAt(a.plotArea().center() + QPoint(50, 50), 2.5);
        QCOMPARE(b.viewport().zoom(), a.viewport().zoom());
        QVERIFY(std::abs(b.viewport().centreCell().x() - a.viewport().centreCell().x()) < 1e-9);
        QCOMPARE(bChanged.count(), 0); // following does not echo back
    }

    void tooltipNamesTheCell_data()
    {
        QTest::addColumn<int>("row");
        QTest::addColumn<int>("column");
        QTest::addColumn<QStringList>("parts");
        QTest::newRow("kept diagonal cell with token ranges")
            << 3 << 3 << QStringList{"query block I 3 (tokens 48\u201363)", "key block J 3", "value: 0.25", "kept"};
        QTest::newRow("dropped cell") << 3 << 1 << QStringList{"key block J 1 (tokens 16\u201331)", "dropped"};
        QTest::newRow("forced cell in the ragged last block")
            << 9 << 0 << QStringList{"query block I 9 (tokens 144\u2013149)", "forced"};
        QTest::newRow("above the diagonal") << 1 << 4 << QStringList{"never attended"};
    }
    void tooltipNamesTheCell()
    {
        QFETCH(int, row);
        QFETCH(int, column);
        QFETCH(QStringList, parts);
        HeatmapView view;
        auto f = triangle(10);
        view.setFigure(f);
        view.setBlockInfo(16, 150);
        view.setMask(diagonalMask(10));
        const QString text = view.cellDescription(row, column);
        for (const QString &part : parts)
            QVERIFY2(text.contains(part), qPrintable(text));
        QVERIFY(view.cellDescription(10, 0).isEmpty());
    }

    void tooltipOfTokensAndHeads()
    {
        HeatmapView view;
        auto f = triangle(3);
        f.labels = {"<s>", "\u2581Once", "\u2581upon"};
        f.rowTitle = QStringLiteral("query token i");
        f.columnTitle = QStringLiteral("key token j");
        view.setFigure(f);
        render::MaskOverlay partial = diagonalMask(3);
        partial.kept[static_cast<std::size_t>(2 * 3 + 1)] = 0.25f;
        view.setMask(partial, 8);
        const QString text = view.cellDescription(2, 1);
        QVERIFY2(text.contains(QStringLiteral("query token i 2 \u201c\u2581upon\u201d")), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("key token j 1 \u201c\u2581Once\u201d")), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("kept by 2 of 8 heads")), qPrintable(text));
    }

    void largeMapsPaintQuickly()
    {
        HeatmapView view;
        view.resize(700, 740);
        QElapsedTimer timer;
        timer.start();
        view.setFigure(triangle(512));
        view.setMask(diagonalMask(512));
        const qint64 build = timer.restart();
        view.grab();
        const qint64 fitted = timer.restart();
        view.zoomAt(view.plotArea().center(), 20);
        view.grab();
        const qint64 zoomed = timer.elapsed();
        qInfo("512 x 512: data %lld ms, paint fitted %lld ms, paint zoomed %lld ms", static_cast<long long>(build),
            static_cast<long long>(fitted), static_cast<long long>(zoomed));
        QVERIFY(build < 500);
        QVERIFY(fitted < 500);
        QVERIFY(zoomed < 500);
        QVERIFY(view.viewport().visibleCells().width() < 100);
    }
};

QTEST_MAIN(TestHeatmapView)
#include "tst_heatmapview.moc"
