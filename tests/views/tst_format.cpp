#include "format.h"
#include "jobs/remainingtime.h"

#include <QTest>

#include <cmath>
#include <limits>

using namespace blockscope::views;

class TestFormat : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void bytes_data()
    {
        QTest::addColumn<quint64>("bytes");
        QTest::addColumn<QString>("text");
        QTest::newRow("zero") << quint64(0) << "0 B";
        QTest::newRow("below a KiB stays in bytes") << quint64(1023) << "1023 B";
        QTest::newRow("exactly a KiB") << quint64(1024) << "1.00 KiB";
        QTest::newRow("fractional MiB") << quint64(1572864) << "1.50 MiB";
        QTest::newRow("stories260K size") << quint64(1040128) << "1015.75 KiB";
        QTest::newRow("GiB") << quint64(13958643712ull) << "13.00 GiB";
    }
    void bytes()
    {
        QFETCH(quint64, bytes);
        QFETCH(QString, text);
        QCOMPARE(formatBytes(bytes), text);
    }

    void count_data()
    {
        QTest::addColumn<quint64>("n");
        QTest::addColumn<QString>("text");
        QTest::newRow("small") << quint64(64) << "64";
        QTest::newRow("three digits no separator") << quint64(999) << "999";
        QTest::newRow("thousands") << quint64(4096) << "4,096";
        QTest::newRow("stories260K parameters") << quint64(260032) << "260,032";
        QTest::newRow("billions") << quint64(6738415616ull) << "6,738,415,616";
    }
    void count()
    {
        QFETCH(quint64, n);
        QFETCH(QString, text);
        QCOMPARE(formatCount(n), text);
    }

    void stat_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<QString>("text");
        QTest::newRow("zero") << 0.0 << "0";
        QTest::newRow("four significant digits") << 1.23456 << "1.235";
        QTest::newRow("negative") << -0.005817 << "-0.005817";
        QTest::newRow("tiny uses exponent") << -1.178e-05 << "-1.178e-05";
        QTest::newRow("large uses exponent") << 123456.0 << "1.235e+05";
        QTest::newRow("nan is a dash") << std::numeric_limits<double>::quiet_NaN() << QStringLiteral("\u2014");
        QTest::newRow("inf") << std::numeric_limits<double>::infinity() << "inf";
    }
    void stat()
    {
        QFETCH(double, value);
        QFETCH(QString, text);
        QCOMPARE(formatStat(value), text);
    }

    void percentAndShape()
    {
        QCOMPARE(formatPercent(0.125), QStringLiteral("12.50 %"));
        QCOMPARE(formatPercent(0), QStringLiteral("0.00 %"));
        QCOMPARE(formatShape({64, 512}), QStringLiteral("64 \u00d7 512"));
        QCOMPARE(formatShape({64}), QStringLiteral("64"));
        QCOMPARE(formatShape({}), QStringLiteral("scalar"));
    }

    void duration_data()
    {
        QTest::addColumn<double>("seconds");
        QTest::addColumn<QString>("text");
        QTest::newRow("sub-second") << 0.42 << "0.4 s";
        QTest::newRow("seconds with a decimal below ten") << 9.94 << "9.9 s";
        QTest::newRow("whole seconds below a minute") << 42.7 << "42 s";
        QTest::newRow("minutes") << 185.0 << "3:05";
        QTest::newRow("hours") << 3723.0 << "1:02:03";
        QTest::newRow("negative is unknown") << -1.0 << "?";
    }
    void duration()
    {
        QFETCH(double, seconds);
        QFETCH(QString, text);
        QCOMPARE(formatDuration(seconds), text);
    }

    // The rate counts from the first progress report: set-up before it is not in the estimate.
    void remaining_data()
    {
        QTest::addColumn<double>("firstAt"); // seconds at the first report
        QTest::addColumn<double>("firstFraction");
        QTest::addColumn<double>("elapsed");
        QTest::addColumn<double>("fraction");
        QTest::addColumn<double>("expected"); // negative: no estimate
        QTest::newRow("half way, no set-up") << 0.0 << 0.1 << 8.0 << 0.5 << 10.0;
        QTest::newRow("half way after 20 s of set-up") << 20.0 << 0.1 << 30.0 << 0.5 << 12.5;
        QTest::newRow("a quarter") << 1.0 << 0.05 << 5.0 << 0.25 << 15.0;
        QTest::newRow("done") << 0.0 << 0.1 << 8.0 << 1.0 << 0.0;
        QTest::newRow("too early in time") << 3.0 << 0.1 << 3.5 << 0.5 << -1.0;
        QTest::newRow("too little progress") << 0.0 << 0.1 << 30.0 << 0.101 << -1.0;
        QTest::newRow("nonsense fraction") << 0.0 << 0.1 << 5.0 << 1.5 << 0.0;
    }
    void remaining()
    {
        QFETCH(double, firstAt);
        QFETCH(double, firstFraction);
        QFETCH(double, elapsed);
        QFETCH(double, fraction);
        QFETCH(double, expected);
        blockscope::RemainingTime t;
        t.update(firstAt / 2, 0.0); // no progress yet: not the start of the rate
        QVERIFY(!t.estimate(firstAt / 2));
        if (firstFraction > 0)
            t.update(firstAt, firstFraction);
        t.update(elapsed, fraction);
        const auto r = t.estimate(elapsed);
        if (expected < 0) {
            QVERIFY(!r);
        } else {
            QVERIFY(r);
            QCOMPARE(*r, expected);
        }
    }
};

QTEST_GUILESS_MAIN(TestFormat)
#include "tst_format.moc"
