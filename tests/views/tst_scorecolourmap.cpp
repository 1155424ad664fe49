// The layer map's value-to-colour map: range fitting, clamping, the palette's ends and middle,
// NaN, and a text colour that reads on every cell.
#include "scorecolourmap.h"

#include <QTest>

#include <cmath>
#include <limits>

using namespace blockscope::views;

namespace {
constexpr double missing = std::numeric_limits<double>::quiet_NaN();
constexpr double infinity = std::numeric_limits<double>::infinity();
} // namespace

class TestScoreColourMap : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void fitting_data()
    {
        QTest::addColumn<QList<double>>("values");
        QTest::addColumn<double>("low");
        QTest::addColumn<double>("high");
        QTest::newRow("min and max of the values") << QList<double>{3.0, -1.0, 2.0} << -1.0 << 3.0;
        QTest::newRow("NaN and infinities ignored")
            << QList<double>{missing, 5.0, infinity, 1.0, -infinity} << 1.0 << 5.0;
        QTest::newRow("no finite value gives 0..1") << QList<double>{missing, infinity} << 0.0 << 1.0;
        QTest::newRow("empty gives 0..1") << QList<double>{} << 0.0 << 1.0;
        QTest::newRow("single value padded by half of itself") << QList<double>{40.0} << 20.0 << 60.0;
        QTest::newRow("single zero padded by one") << QList<double>{0.0, 0.0} << -1.0 << 1.0;
    }
    void fitting()
    {
        QFETCH(QList<double>, values);
        QFETCH(double, low);
        QFETCH(double, high);
        const auto map = ScoreColourMap::fitting(std::vector<double>(values.begin(), values.end()));
        QCOMPARE(map.low, low);
        QCOMPARE(map.high, high);
    }

    void position_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<double>("position");
        QTest::newRow("low end") << 10.0 << 0.0;
        QTest::newRow("high end") << 30.0 << 1.0;
        QTest::newRow("middle") << 20.0 << 0.5;
        QTest::newRow("quarter") << 15.0 << 0.25;
        QTest::newRow("below clamps to 0") << -100.0 << 0.0;
        QTest::newRow("above clamps to 1") << 1e9 << 1.0;
        QTest::newRow("minus infinity clamps to 0") << -infinity << 0.0;
    }
    void position()
    {
        QFETCH(double, value);
        QFETCH(double, position);
        const ScoreColourMap map{10, 30};
        QCOMPARE(map.position(value), position);
    }

    void nanHasNoPositionAndGreyColour()
    {
        const ScoreColourMap map{0, 1};
        QVERIFY(std::isnan(map.position(missing)));
        QCOMPARE(map.colour(missing), ScoreColourMap::missingColour());
    }

    void degenerateRangeMapsToMiddle()
    {
        const ScoreColourMap map{5, 5};
        QCOMPARE(map.position(5), 0.5);
        QCOMPARE(map.position(100), 0.5);
    }

    void paletteEndsAreViridis()
    {
        QCOMPARE(ScoreColourMap::atPosition(0), QColor(68, 1, 84));
        QCOMPARE(ScoreColourMap::atPosition(1), QColor(253, 231, 37));
        QCOMPARE(ScoreColourMap::atPosition(0.5), QColor(33, 144, 141));
        // Halfway between two stops is the mean of the stops.
        QCOMPARE(ScoreColourMap::atPosition(1.0 / 16), QColor(70, 23, 103));
        QCOMPARE(ScoreColourMap::atPosition(-3), ScoreColourMap::atPosition(0));
        QCOMPARE(ScoreColourMap::atPosition(7), ScoreColourMap::atPosition(1));
        const ScoreColourMap map{10, 30};
        QCOMPARE(map.colour(10), QColor(68, 1, 84));
        QCOMPARE(map.colour(30), QColor(253, 231, 37));
    }

    void paletteGetsBrighter()
    {
        // Luminance rises monotonically along viridis, so brighter always means a higher score.
        double previous = -1;
        for (int i = 0; i <= 64; ++i) {
            const QColor c = ScoreColourMap::atPosition(i / 64.0);
            const double y = 0.2126 * c.redF() + 0.7152 * c.greenF() + 0.0722 * c.blueF();
            QVERIFY2(y > previous, qPrintable(QString::number(i)));
            previous = y;
        }
    }

    void textColourReadsOnBackground_data()
    {
        QTest::addColumn<QColor>("background");
        QTest::addColumn<QColor>("text");
        QTest::newRow("dark purple end") << ScoreColourMap::atPosition(0) << QColor(Qt::white);
        QTest::newRow("blue, three eighths") << ScoreColourMap::atPosition(0.375) << QColor(Qt::white);
        QTest::newRow("teal middle") << ScoreColourMap::atPosition(0.5) << QColor(Qt::black);
        QTest::newRow("yellow end") << ScoreColourMap::atPosition(1) << QColor(Qt::black);
        QTest::newRow("missing grey") << ScoreColourMap::missingColour() << QColor(Qt::black);
        QTest::newRow("white") << QColor(Qt::white) << QColor(Qt::black);
        QTest::newRow("black") << QColor(Qt::black) << QColor(Qt::white);
    }
    void textColourReadsOnBackground()
    {
        QFETCH(QColor, background);
        QFETCH(QColor, text);
        QCOMPARE(ScoreColourMap::textColourOn(background), text);
    }
};

QTEST_APPLESS_MAIN(TestScoreColourMap)
#include "tst_scorecolourmap.moc"
