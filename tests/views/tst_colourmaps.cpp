// The heatmaps' value-to-colour map: log10 and linear positions with clamping, viridis at its
// ends and middle, NaN, colour-bar ticks, and how a mask overlay recolours a cell.
#include "render/colourmaps.h"

#include <QTest>

#include <cmath>
#include <limits>

using namespace blockscope::render;

namespace {
constexpr double missing = std::numeric_limits<double>::quiet_NaN();
constexpr double infinity = std::numeric_limits<double>::infinity();

int lightness(QRgb c)
{
    return qGray(c);
}
} // namespace

class TestColourMaps : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void logPosition_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<double>("position");
        QTest::newRow("1 is the top") << 1.0 << 1.0;
        QTest::newRow("1e-5 is the bottom") << 1e-5 << 0.0;
        QTest::newRow("10^-2.5 is the middle") << std::pow(10.0, -2.5) << 0.5;
        QTest::newRow("1e-4 a fifth up") << 1e-4 << 0.2;
        QTest::newRow("below 1e-5 clamps") << 1e-9 << 0.0;
        QTest::newRow("zero clamps to the bottom") << 0.0 << 0.0;
        QTest::newRow("negative clamps to the bottom") << -0.5 << 0.0;
        QTest::newRow("above 1 clamps") << 7.0 << 1.0;
        QTest::newRow("infinity clamps") << infinity << 1.0;
    }
    void logPosition()
    {
        QFETCH(double, value);
        QFETCH(double, position);
        QVERIFY(std::abs(ValueScale::probabilities().position(value) - position) < 1e-12);
    }

    void linearPosition_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<double>("position");
        QTest::newRow("low end") << -2.0 << 0.0;
        QTest::newRow("high end") << 6.0 << 1.0;
        QTest::newRow("middle") << 2.0 << 0.5;
        QTest::newRow("below clamps") << -100.0 << 0.0;
        QTest::newRow("above clamps") << 100.0 << 1.0;
    }
    void linearPosition()
    {
        QFETCH(double, value);
        QFETCH(double, position);
        QCOMPARE(ValueScale::linear(-2, 6).position(value), position);
    }

    void nanHasNoPositionAndTheBackground()
    {
        QVERIFY(std::isnan(ValueScale::probabilities().position(missing)));
        QCOMPARE(ValueScale::probabilities().colour(missing), backgroundColour());
        QCOMPARE(ValueScale::linear(0, 1).colour(missing), backgroundColour());
    }

    void viridisEndsAndMiddle_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<QColor>("colour");
        QTest::newRow("probability 1: yellow end") << 1.0 << QColor(253, 231, 37);
        QTest::newRow("probability 1e-5: purple end") << 1e-5 << QColor(68, 1, 84);
        QTest::newRow("10^-2.5: teal middle") << std::pow(10.0, -2.5) << QColor(33, 144, 141);
        QTest::newRow("zero: purple end, not background") << 0.0 << QColor(68, 1, 84);
    }
    void viridisEndsAndMiddle()
    {
        QFETCH(double, value);
        QFETCH(QColor, colour);
        QCOMPARE(QColor(ValueScale::probabilities().colour(value)), colour);
    }

    void viridisLightnessRises()
    {
        int last = -1;
        for (int i = 0; i <= 100; ++i) {
            const int y = lightness(viridis(i / 100.0));
            QVERIFY2(y >= last, qPrintable(QStringLiteral("at %1").arg(i)));
            last = y;
        }
        QCOMPARE(viridis(missing), viridis(0));
        QCOMPARE(viridis(-1), viridis(0));
        QCOMPARE(viridis(2), viridis(1));
    }

    void logTicksArePowersOfTen()
    {
        const auto ticks = ValueScale::probabilities().ticks();
        QStringList texts;
        for (const auto &t : ticks)
            texts << t.text;
        QCOMPARE(texts, (QStringList{"1e-5", "1e-4", "0.001", "0.01", "0.1", "1"}));
        QCOMPARE(ticks.front().position, 0.0);
        QCOMPARE(ticks.back().position, 1.0);
    }

    void logTicksThinOutOverWideRanges()
    {
        const auto ticks = ValueScale{ValueScale::Kind::Log10, -20, 0}.ticks();
        QVERIFY(ticks.size() <= 9);
        QCOMPARE(ticks.back().text, QStringLiteral("1"));
    }

    void linearTicksAreRound()
    {
        QStringList texts;
        for (const auto &t : ValueScale::linear(0, 1).ticks())
            texts << t.text;
        QCOMPARE(texts, (QStringList{"0", "0.25", "0.5", "0.75", "1"}));
    }

    void describe()
    {
        QCOMPARE(ValueScale::probabilities().describe(0.01), QStringLiteral("0.01 (log10 -2.00)"));
        QCOMPARE(ValueScale::probabilities().describe(0), QStringLiteral("0"));
        QCOMPARE(ValueScale::probabilities().describe(missing), QStringLiteral("\u2014"));
        QCOMPARE(ValueScale::linear(0, 1).describe(0.25), QStringLiteral("0.25"));
    }

    void maskedColour_data()
    {
        QTest::addColumn<double>("t");
        QTest::newRow("dark end") << 0.0;
        QTest::newRow("middle") << 0.5;
        QTest::newRow("bright end") << 1.0;
    }
    void maskedColour()
    {
        QFETCH(double, t);
        const QRgb c = viridis(t);
        QCOMPARE(blockscope::render::maskedColour(c, 1.0, false), c);
        const QRgb dropped = blockscope::render::maskedColour(c, 0.0, false);
        QCOMPARE(qRed(dropped), qGreen(dropped));
        QCOMPARE(qGreen(dropped), qBlue(dropped));
        QVERIFY(dropped != backgroundColour());
        const QRgb half = blockscope::render::maskedColour(c, 0.5, false);
        QVERIFY(half != c && half != dropped);
        const QRgb forced = blockscope::render::maskedColour(c, 1.0, true);
        QVERIFY(forced != c);
        QVERIFY(qRed(forced) > qBlue(forced)); // towards orange
    }

    void droppedCellsKeepTheirOrder()
    {
        // A dropped cell that held more attention stays lighter than one that held less.
        int last = -1;
        for (int i = 0; i <= 10; ++i) {
            const int y = lightness(blockscope::render::maskedColour(viridis(i / 10.0), 0.0, false));
            QVERIFY(y >= last);
            last = y;
        }
    }
};

QTEST_GUILESS_MAIN(TestColourMaps)
#include "tst_colourmaps.moc"
