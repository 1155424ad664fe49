// Heatmap rendering shared by the app and the CLI: cell pixels (values, the causal triangle, NaN,
// mask overlays), the figure with its title, axes and colour bar, files in PNG/SVG/PDF, and the
// matrix as CSV read back exactly.
#include "render/gridcsv.h"
#include "render/heatmapfigure.h"
#include "render/heatmapimage.h"
#include "testdata.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFontMetrics>
#include <QImage>
#include <QTest>

#include <cmath>
#include <limits>

using namespace blockscope;
using namespace blockscope::render;

namespace {
constexpr float missing = std::numeric_limits<float>::quiet_NaN();

// A lower-triangular map whose rows sum to 1, with 0 above the diagonal as the snapshots have.
sparse::BlockGrid triangle(int n)
{
    sparse::BlockGrid g(n);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j <= i; ++j)
            g.at(i, j) = 1.0f / static_cast<float>(i + 1);
    return g;
}

sparse::BlockMask maskOf(
    int n, const std::vector<std::pair<int, int>> &selected, const std::vector<std::pair<int, int>> &forced = {})
{
    sparse::BlockMask m;
    m.nb = n;
    m.cells.assign(static_cast<std::size_t>(n) * n, sparse::MaskCell::Off);
    for (auto [i, j] : selected)
        m.cells[static_cast<std::size_t>(i) * n + j] = sparse::MaskCell::Selected;
    for (auto [i, j] : forced)
        m.cells[static_cast<std::size_t>(i) * n + j] = sparse::MaskCell::Forced;
    return m;
}

bool hasInk(const QImage &image, const QRect &area, QRgb background)
{
    for (int y = area.top(); y <= area.bottom(); ++y)
        for (int x = area.left(); x <= area.right(); ++x)
            if ((image.pixel(x, y) & 0xffffff) != (background & 0xffffff))
                return true;
    return false;
}
} // namespace

class TestHeatmapImage : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void pixelsFollowTheScale()
    {
        sparse::BlockGrid g(3);
        g.at(0, 0) = 1.0f;
        g.at(1, 0) = 1e-5f;
        g.at(1, 1) = static_cast<float>(std::pow(10.0, -2.5));
        g.at(2, 0) = missing;
        g.at(2, 1) = 0.0f;
        g.at(2, 2) = 1e-9f;
        g.at(0, 2) = 1.0f; // above the diagonal: never drawn in a causal map
        const QImage image = heatmapPixels(g, ValueScale::probabilities());
        QCOMPARE(image.size(), QSize(3, 3));
        QCOMPARE(QColor(image.pixel(0, 0)), QColor(253, 231, 37));
        QCOMPARE(QColor(image.pixel(0, 1)), QColor(68, 1, 84));
        QCOMPARE(QColor(image.pixel(1, 1)), QColor(33, 144, 141));
        QCOMPARE(image.pixel(0, 2) | 0xff000000, backgroundColour() | 0xff000000); // NaN
        QCOMPARE(QColor(image.pixel(1, 2)), QColor(68, 1, 84)); // 0 clamps to the low end
        QCOMPARE(QColor(image.pixel(2, 2)), QColor(68, 1, 84)); // below 1e-5 clamps
        QCOMPARE(image.pixel(2, 0) | 0xff000000, backgroundColour() | 0xff000000); // J > I
        QCOMPARE(image.pixel(1, 0) | 0xff000000, backgroundColour() | 0xff000000);
    }

    void nonCausalMapsDrawEveryCell()
    {
        sparse::BlockGrid g(2, 1.0f);
        const QImage image = heatmapPixels(g, ValueScale::probabilities(), false);
        QCOMPARE(QColor(image.pixel(1, 0)), QColor(253, 231, 37));
    }

    void emptyOrShortGridGivesNoImage()
    {
        QVERIFY(heatmapPixels(sparse::BlockGrid(), ValueScale::probabilities()).isNull());
        sparse::BlockGrid bad(4);
        bad.values.resize(3);
        QVERIFY(heatmapPixels(bad, ValueScale::probabilities()).isNull());
    }

    void overlayRecoloursCells()
    {
        const auto g = triangle(4);
        const auto overlay = MaskOverlay::fromMask(maskOf(4, {{0, 0}, {1, 1}, {2, 0}}, {{3, 0}, {3, 1}}));
        const QImage plain = heatmapPixels(g, ValueScale::probabilities());
        const QImage masked = heatmapPixels(g, ValueScale::probabilities(), true, &overlay);
        QCOMPARE(masked.pixel(0, 0), plain.pixel(0, 0)); // kept
        QCOMPARE(masked.pixel(0, 2), plain.pixel(0, 2));
        const QRgb dropped = masked.pixel(1, 2);
        QCOMPARE(qRed(dropped), qBlue(dropped)); // grey
        QCOMPARE(masked.pixel(0, 3), maskedColour(plain.pixel(0, 3), 1.0, true)); // forced
        QCOMPARE(masked.pixel(3, 0) | 0xff000000, backgroundColour() | 0xff000000);
    }

    void overlayOfSeveralHeadsIsAFraction()
    {
        const auto overlay = MaskOverlay::fromMasks({maskOf(2, {{0, 0}, {1, 0}}), maskOf(2, {{0, 0}}, {{1, 1}}),
            maskOf(2, {{0, 0}, {1, 0}}, {{1, 1}}), maskOf(2, {{0, 0}})});
        QCOMPARE(overlay.size, 2);
        QCOMPARE(overlay.keptAt(0, 0), 1.0f);
        QCOMPARE(overlay.keptAt(1, 0), 0.5f);
        QCOMPARE(overlay.keptAt(1, 1), 0.5f);
        QVERIFY(overlay.forcedAt(1, 1));
        QVERIFY(!overlay.forcedAt(1, 0));
        QVERIFY(MaskOverlay::fromMasks({}).isEmpty());
        QVERIFY(MaskOverlay::fromMasks({maskOf(2, {}), maskOf(3, {})}).isEmpty());
    }

    void overlayOnTokens()
    {
        const auto blocks = MaskOverlay::fromMask(maskOf(3, {{0, 0}, {2, 1}}, {{2, 2}}));
        const auto tokens = blocks.expandedToTokens(7, 3); // ragged last block of one token
        QCOMPARE(tokens.size, 7);
        QCOMPARE(tokens.keptAt(2, 1), 1.0f);
        QCOMPARE(tokens.keptAt(3, 1), 0.0f);
        QCOMPARE(tokens.keptAt(6, 4), 1.0f);
        QVERIFY(tokens.forcedAt(6, 6));
        QVERIFY(blocks.expandedToTokens(10, 3).isEmpty()); // needs 4 blocks
    }

    void tickIndices_data()
    {
        QTest::addColumn<int>("first");
        QTest::addColumn<int>("last");
        QTest::addColumn<double>("pixelsPerCell");
        QTest::addColumn<QList<int>>("ticks");
        QTest::newRow("room for every cell") << 0 << 4 << 20.0 << QList<int>{0, 1, 2, 3, 4};
        QTest::newRow("every second") << 0 << 6 << 8.0 << QList<int>{0, 2, 4, 6};
        QTest::newRow("every fifth") << 0 << 12 << 4.0 << QList<int>{0, 5, 10};
        QTest::newRow("every hundredth of 512") << 0 << 511 << 0.2 << QList<int>{0, 100, 200, 300, 400, 500};
        QTest::newRow("a window starts at a multiple") << 13 << 31 << 4.0 << QList<int>{15, 20, 25, 30};
        QTest::newRow("nothing to label") << 3 << 2 << 10.0 << QList<int>{};
    }
    void tickIndices()
    {
        QFETCH(int, first);
        QFETCH(int, last);
        QFETCH(double, pixelsPerCell);
        QFETCH(QList<int>, ticks);
        const auto got = blockscope::render::tickIndices(first, last, pixelsPerCell, 16);
        QCOMPARE(QList<int>(got.begin(), got.end()), ticks);
    }

    void layoutKeepsCellsWhole()
    {
        HeatmapFigure f;
        f.grid = triangle(32);
        const auto l = HeatmapFigureLayout::compute(f, QRect(0, 0, 900, 700), QFont());
        QCOMPARE(l.plot.width(), l.plot.height());
        QCOMPARE(l.plot.width() % 32, 0);
        QVERIFY(l.plot.width() >= 32 * 14);
        QVERIFY(l.colourBar.left() > l.plot.right());
        QVERIFY(l.columnLabels.top() > l.plot.bottom());
        QVERIFY(l.rowLabels.right() < l.plot.left());
        QVERIFY(l.maskKey.isEmpty());
        f.mask = MaskOverlay::fromMask(maskOf(32, {{0, 0}}));
        QVERIFY(!HeatmapFigureLayout::compute(f, QRect(0, 0, 900, 700), QFont()).maskKey.isEmpty());
    }

    void figureHasTitleColourBarAndCells()
    {
        HeatmapFigure f;
        f.title = QStringLiteral("Ground truth \u011c");
        f.subtitle = QStringLiteral("layer 2 \u00b7 head 3");
        f.grid = triangle(16);
        f.mask = MaskOverlay::fromMask(maskOf(16, {{0, 0}}, {{15, 0}}));
        const QSize size = defaultFigureSize(f);
        QVERIFY(size.width() >= 384 && size.height() >= 384);
        const QImage image = renderHeatmapFigure(f);
        QCOMPARE(image.size(), size);
        const auto l = HeatmapFigureLayout::compute(f, QRect(QPoint(0, 0), size), QFont());
        QCOMPARE(l.plot.width(), 384); // 16 cells of 24 pixels: the default size fits the plot exactly
        const QRgb white = qRgb(255, 255, 255);
        QVERIFY(hasInk(image, l.title, white));
        QVERIFY(hasInk(image, l.subtitle, white));
        QVERIFY(hasInk(image, l.rowLabels, white));
        QVERIFY(hasInk(image, l.columnLabels, white));
        QVERIFY(hasInk(image, l.colourBarLabels, white));
        QVERIFY(hasInk(image, l.maskKey, white));
        // The bar runs from the yellow end at the top to the purple end at the bottom.
        const QPoint top(l.colourBar.center().x(), l.colourBar.top() + 2);
        const QPoint bottom(l.colourBar.center().x(), l.colourBar.bottom() - 2);
        QVERIFY(qGreen(image.pixel(top)) > 200);
        QVERIFY(qGreen(image.pixel(bottom)) < 30);
        // Top-left cell kept (value 1: yellow); top-right above the diagonal: background.
        const int cell = l.plot.width() / 16;
        QCOMPARE(QColor(image.pixel(l.plot.left() + cell / 2, l.plot.top() + cell / 2)), QColor(253, 231, 37));
        QCOMPARE(image.pixel(l.plot.right() - cell / 2, l.plot.top() + cell / 2) | 0xff000000,
            backgroundColour() | 0xff000000);
    }

    void tokenFigureLabelsBothAxes()
    {
        HeatmapFigure f;
        f.grid = triangle(6);
        f.labels = {"<s>", "\u2581Once", "\u2581upon", "\u2581a", "\u2581time", ","};
        f.rowTitle = QStringLiteral("query token");
        f.columnTitle = QStringLiteral("key token");
        const QImage image = renderHeatmapFigure(f, QSize(600, 500));
        const auto l = HeatmapFigureLayout::compute(f, QRect(0, 0, 600, 500), QFont());
        QVERIFY(l.columnLabels.height() > QFontMetrics(QFont()).height() + 8); // room for rotated tokens
        QVERIFY(hasInk(image, l.columnLabels, qRgb(255, 255, 255)));
    }

    void save_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("magic");
        QTest::newRow("png") << "map.png" << QByteArray("\x89PNG");
        QTest::newRow("svg") << "map.svg" << QByteArray("<?xml");
        QTest::newRow("pdf") << "map.pdf" << QByteArray("%PDF");
    }
    void save()
    {
        QFETCH(QString, name);
        QFETCH(QByteArray, magic);
        HeatmapFigure f;
        f.title = QStringLiteral("Gate prediction");
        f.grid = triangle(8);
        const QString path = test::freshTempDir(QStringLiteral("heatmap-save-") + name) + QLatin1Char('/') + name;
        QString error;
        QVERIFY2(saveHeatmap(f, path, &error), qPrintable(error));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY(file.read(magic.size()) == magic);
        if (name.endsWith(QLatin1String(".png"))) {
            // Twice the figure's size, for high-density screens and print.
            QCOMPARE(QImage(path).size(), defaultFigureSize(f) * 2);
        }
    }

    void saveRejectsUnknownFormats()
    {
        HeatmapFigure f;
        f.grid = triangle(4);
        QString error;
        QVERIFY(!saveHeatmap(f, test::freshTempDir(QStringLiteral("heatmap-bad")) + "/map.bmpx", &error));
        QVERIFY(error.contains(QLatin1String("unknown image format")));
    }

    void csvRoundTrip_data()
    {
        QTest::addColumn<bool>("causal");
        QTest::addColumn<bool>("labels");
        QTest::newRow("block map, indices") << true << false;
        QTest::newRow("token map with awkward labels") << true << true;
        QTest::newRow("full matrix") << false << false;
    }
    void csvRoundTrip()
    {
        QFETCH(bool, causal);
        QFETCH(bool, labels);
        sparse::BlockGrid g(5);
        for (int i = 0; i < 5; ++i)
            for (int j = 0; j < 5; ++j)
                g.at(i, j) = static_cast<float>(std::exp(-0.37 * (i * 5 + j)) / 3.0);
        g.at(3, 1) = missing;
        g.at(4, 0) = -std::numeric_limits<float>::infinity(); // a log map's empty tile
        std::vector<QString> names;
        if (labels)
            names = {"<s>", "a,b", "say \"hi\"", "line\nbreak", "\u2581x"};
        const QString path = test::freshTempDir(QStringLiteral("heatmap-csv")) + "/grid.csv";
        QString error;
        QVERIFY2(writeGridCsv(g, path, &error, causal, names), qPrintable(error));
        sparse::BlockGrid back;
        QVERIFY2(readGridCsv(path, &back, &error), qPrintable(error));
        QCOMPARE(back.nb, 5);
        for (int i = 0; i < 5; ++i)
            for (int j = 0; j < 5; ++j) {
                const float expected = (causal && j > i) || (i == 3 && j == 1) ? missing : g.at(i, j);
                if (std::isnan(expected))
                    QVERIFY2(std::isnan(back.at(i, j)), qPrintable(QStringLiteral("%1,%2").arg(i).arg(j)));
                else
                    QCOMPARE(back.at(i, j), expected); // bit-exact: nine significant digits
            }
    }

    // The CSV goes through core's atomic writer: a folder that does not exist is an error naming
    // the file, and nothing (no temporary either) is left behind.
    void csvWriteFailuresNameTheFile()
    {
        const QString dir = test::freshTempDir(QStringLiteral("heatmap-csv-fail"));
        QString error;
        QVERIFY(!writeGridCsv(sparse::BlockGrid(2, 0.25f), dir + "/missing/grid.csv", &error));
        QVERIFY2(error.contains(dir + "/missing/grid.csv"), qPrintable(error));
        QVERIFY(QDir(dir).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden).isEmpty());
    }

    void csvReadErrorsNameTheRow()
    {
        const QString path = test::freshTempDir(QStringLiteral("heatmap-csv-bad")) + "/grid.csv";
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("row\\col,0,1\n0,0.5,\n1,0.5,oops\n");
        file.close();
        sparse::BlockGrid g;
        QString error;
        QVERIFY(!readGridCsv(path, &g, &error));
        QVERIFY2(error.contains(QLatin1String("row 1")), qPrintable(error));
    }

    void largeMapsRenderQuickly()
    {
        // 512 x 512 blocks (32k tokens at B = 64), with a mask: the views redo this on every mask change.
        const auto g = triangle(512);
        std::vector<std::pair<int, int>> diagonal;
        for (int i = 0; i < 512; ++i)
            diagonal.push_back({i, i});
        const auto overlay = MaskOverlay::fromMask(maskOf(512, diagonal));
        QElapsedTimer timer;
        timer.start();
        const QImage image = heatmapPixels(g, ValueScale::probabilities(), true, &overlay);
        const qint64 ms = timer.elapsed();
        QCOMPARE(image.size(), QSize(512, 512));
        qInfo("512 x 512 with overlay: %lld ms", static_cast<long long>(ms));
        QVERIFY(ms < 1000);
    }
};

QTEST_MAIN(TestHeatmapImage)
#include "tst_heatmapimage.moc"
