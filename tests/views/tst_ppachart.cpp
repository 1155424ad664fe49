// The PPA chart from synthetic points: measured and modelled series per run, the dense model
// marked, the Pareto frontier equal to paretoFrontier() of the points shown, modelled series only
// where predictions exist, provenance in the legend and axis titles, the device picker, tooltips,
// and image exports.
#include "charts/ppachart.h"
#include "ppapointmodel.h"
#include "ppatestpoints.h"

#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>

#include <cmath>

using namespace blockscope;
using namespace blockscope::views;
using Source = PpaChart::Source;

namespace {
// What the chart should draw for a source: (x, y) of every point with both, in step order.
QList<QPointF> expectedPoints(const PpaPointModel &m, int xColumn, int yColumn)
{
    QList<QPointF> points;
    for (int row = 0; row < m.rowCount(); ++row) {
        const double x = m.value(row, xColumn), y = m.value(row, yColumn);
        if (std::isfinite(x) && std::isfinite(y) && x > 0)
            points << QPointF(x, y);
    }
    return points;
}

bool anyContains(const QStringList &names, const QString &part)
{
    for (const QString &n : names)
        if (n.contains(part))
            return true;
    return false;
}
} // namespace

class TestPpaChart : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void measuredAndModelledSeries()
    {
        PpaPointModel points;
        points.setPoints(test::syntheticRun(true, true));
        PpaChart chart;
        QCOMPARE(chart.addRun(&points, QStringLiteral("run-0001 sleb")), 0);
        QTRY_COMPARE(chart.seriesPoints(0, Source::Measured).size(), 4);
        QCOMPARE(chart.seriesPoints(0, Source::Measured),
            expectedPoints(points, PpaPointModel::PrefillMeasured, PpaPointModel::Perplexity));
        QCOMPARE(chart.seriesPoints(0, Source::Modelled),
            expectedPoints(points, PpaPointModel::PrefillModelled, PpaPointModel::Perplexity));
        QVERIFY(chart.seriesVisible(0, Source::Measured));
        QVERIFY(chart.seriesVisible(0, Source::Modelled));
        QCOMPARE(chart.seriesName(0, Source::Measured), QStringLiteral("run-0001 sleb \u00b7 measured"));
        QCOMPARE(chart.seriesName(0, Source::Modelled),
            QStringLiteral("run-0001 sleb \u00b7 modelled (roofline, this machine)"));
        const QStringList legend = chart.legendNames();
        QVERIFY2(legend.contains(QStringLiteral("run-0001 sleb \u00b7 modelled (roofline, this machine)")),
            qPrintable(legend.join(QLatin1Char('|'))));
        QVERIFY(legend.contains(QStringLiteral("Pareto frontier (measured)")));
        QVERIFY(legend.contains(QStringLiteral("dense model (measured)")));
        // Every visible legend entry says measured or modelled.
        for (const QString &name : legend)
            QVERIFY2(name.contains(QStringLiteral("measured")) || name.contains(QStringLiteral("modelled")),
                qPrintable(name));
        QVERIFY2(chart.xAxisTitle().contains(QStringLiteral("measured and modelled (roofline, this machine)")),
            qPrintable(chart.xAxisTitle()));
        QCOMPARE(chart.yAxisTitle(), QStringLiteral("Perplexity (measured)"));
        QCOMPARE(chart.title(), QStringLiteral("Perplexity against prefill throughput (tokens/s)"));
    }

    void denseMarked()
    {
        PpaPointModel points;
        points.setPoints(test::syntheticRun(true, true));
        PpaChart chart;
        chart.addRun(&points, QStringLiteral("run"));
        QTRY_COMPARE(chart.densePoints().size(), 1);
        QCOMPARE(chart.densePoints().front(), QPointF(1000, 10));
        chart.setQuality(PpaQuality::KlToDense);
        QTRY_COMPARE(chart.densePoints(), QList<QPointF>({QPointF(1000, 0)}));
        QCOMPARE(chart.yAxisTitle(), QStringLiteral("KL to dense (measured)"));
        // Nothing measured: the dense star marks the modelled point.
        PpaPointModel modelled;
        modelled.setPoints(test::syntheticRun(false, true));
        PpaChart other;
        other.addRun(&modelled, QStringLiteral("run"));
        QTRY_COMPARE(other.densePoints(), QList<QPointF>({QPointF(1250, 10)}));
        QVERIFY(other.legendNames().contains(QStringLiteral("dense model (modelled (roofline, this machine))")));
    }

    void frontierIsParetoOfThePoints_data()
    {
        QTest::addColumn<int>("axis");
        QTest::addColumn<int>("quality");
        QTest::addColumn<bool>("measured");
        QTest::newRow("prefill, perplexity, measured") << int(PpaAxis::PrefillThroughput) << 0 << true;
        QTest::newRow("decode, perplexity, measured") << int(PpaAxis::DecodeLatency) << 0 << true;
        QTest::newRow("prefill energy, KL, measured") << int(PpaAxis::PrefillEnergy) << 1 << true;
        QTest::newRow("stored size, perplexity (modelled only)") << int(PpaAxis::StoredSize) << 0 << true;
        QTest::newRow("decode energy (measured figure is a fallback)") << int(PpaAxis::DecodeEnergy) << 0 << true;
        QTest::newRow("prefill, modelled only") << int(PpaAxis::PrefillThroughput) << 0 << false;
    }

    void frontierIsParetoOfThePoints()
    {
        QFETCH(int, axis);
        QFETCH(int, quality);
        QFETCH(bool, measured);
        PpaPointModel a, b;
        a.setPoints(test::syntheticRun(measured, true));
        // A second run, shifted: better at some points, worse at others.
        auto shifted = test::syntheticRun(measured, true);
        for (auto &p : shifted) {
            p.perplexity *= 0.97;
            p.klToDense *= 0.5;
            if (p.measured)
                p.measured->prefillTokensPerSecond.value *= 0.9;
            for (auto &q : p.predictions)
                q.prefillTokensPerSecond *= 1.1;
        }
        b.setPoints(shifted);
        PpaChart chart;
        chart.addRun(&a, QStringLiteral("a"));
        chart.addRun(&b, QStringLiteral("b"));
        chart.setAxis(static_cast<PpaAxis>(axis));
        chart.setQuality(static_cast<PpaQuality>(quality));
        QTest::qWait(0);

        // The frontier's source: measured when any measured point is drawn.
        const bool anyMeasured = chart.seriesVisible(0, Source::Measured) || chart.seriesVisible(1, Source::Measured);
        const Source source = anyMeasured ? Source::Measured : Source::Modelled;
        QCOMPARE(chart.frontierName().contains(QStringLiteral("(measured)")), anyMeasured);
        QList<QPointF> all;
        for (int run = 0; run < 2; ++run)
            for (const QPointF &p : chart.seriesPoints(run, source))
                all << p;
        QVERIFY(all.size() >= 4);
        // By brute force, not through the chart's own helper: a point is on the frontier when no
        // other is at least as good on both axes and better on one (quality: lower is better).
        const bool minimiseX = PpaPointModel::minimise(static_cast<PpaAxis>(axis));
        auto atLeast = [](double a, double b, bool lower) { return lower ? a <= b : a >= b; };
        auto better = [](double a, double b, bool lower) { return lower ? a < b : a > b; };
        QList<QPointF> expected;
        for (const QPointF &p : all) {
            bool dominated = false;
            for (const QPointF &q : all)
                dominated = dominated
                    || (atLeast(q.x(), p.x(), minimiseX) && atLeast(q.y(), p.y(), true)
                        && (better(q.x(), p.x(), minimiseX) || better(q.y(), p.y(), true)));
            if (!dominated && !expected.contains(p))
                expected << p;
        }
        auto byX
            = [](const QPointF &a, const QPointF &b) { return a.x() < b.x() || (a.x() == b.x() && a.y() < b.y()); };
        std::sort(expected.begin(), expected.end(), byX);
        QList<QPointF> got;
        for (const QPointF &p : chart.frontierPoints())
            if (!got.contains(p))
                got << p;
        std::sort(got.begin(), got.end(), byX);
        QCOMPARE(got, expected);
        QVERIFY(expected.size() >= 2);
        // Every legend entry names its provenance, whichever axis.
        for (const QString &name : chart.legendNames())
            QVERIFY2(name.contains(QStringLiteral("measured")) || name.contains(QStringLiteral("modelled")),
                qPrintable(name));
    }

    void oneDenseLabelPerDenseModel()
    {
        PpaPointModel a, b, c;
        a.setPoints(test::syntheticRun(true, true));
        b.setPoints(test::syntheticRun(true, true)); // the same model: the same dense perplexity
        auto other = test::syntheticRun(true, true);
        other[0].perplexity = 12.5; // evaluated with another protocol
        c.setPoints(other);
        PpaChart chart;
        chart.addRun(&a, QStringLiteral("a"));
        chart.addRun(&b, QStringLiteral("b"));
        chart.addRun(&c, QStringLiteral("c"));
        QTRY_COMPARE(chart.densePoints().size(), 3);
        QVERIFY(chart.denseLabelShown(0));
        QVERIFY(!chart.denseLabelShown(1));
        QVERIFY(chart.denseLabelShown(2));
    }

    void legendBesideThePlotForSeveralRuns()
    {
        PpaPointModel a, b;
        a.setPoints(test::syntheticRun(true, true));
        b.setPoints(test::syntheticRun(true, true));
        PpaChart chart;
        chart.addRun(&a, QStringLiteral("a"));
        QTRY_COMPARE(chart.legendNames().size(), 4);
        QCOMPARE(chart.legendAlignment(), Qt::AlignBottom);
        chart.addRun(&b, QStringLiteral("b"));
        QTRY_COMPARE(chart.legendNames().size(), 6);
        QCOMPARE(chart.legendAlignment(), Qt::AlignRight);
    }

    void dominatedStepOffTheFrontier()
    {
        PpaPointModel points;
        points.setPoints(test::syntheticRun(true, true));
        PpaChart chart;
        chart.addRun(&points, QStringLiteral("run"));
        QTRY_COMPARE(chart.frontierPoints(), QList<QPointF>({QPointF(1000, 10), QPointF(1300, 11), QPointF(1800, 20)}));
    }

    void modelledSeriesOnlyWithPredictions()
    {
        PpaPointModel bare;
        bare.setPoints(test::syntheticRun(true, false));
        PpaChart chart;
        chart.addRun(&bare, QStringLiteral("run"));
        QTRY_COMPARE(chart.seriesPoints(0, Source::Measured).size(), 4);
        QVERIFY(chart.seriesPoints(0, Source::Modelled).isEmpty());
        QVERIFY(!chart.seriesVisible(0, Source::Modelled));
        QVERIFY(!anyContains(chart.legendNames(), QStringLiteral("roofline")));
        QVERIFY(!chart.xAxisTitle().contains(QStringLiteral("modelled")));
        QVERIFY(chart.xAxisTitle().contains(QStringLiteral("measured")));

        // Modelled only: the axis says so and never "measured".
        PpaPointModel modelled;
        modelled.setPoints(test::syntheticRun(false, true));
        PpaChart other;
        other.addRun(&modelled, QStringLiteral("run"));
        QTRY_COMPARE(other.seriesPoints(0, Source::Modelled).size(), 4);
        QVERIFY(!other.seriesVisible(0, Source::Measured));
        QVERIFY2(other.xAxisTitle().contains(QStringLiteral("modelled (roofline, this machine)")),
            qPrintable(other.xAxisTitle()));
        QVERIFY(!other.xAxisTitle().contains(QStringLiteral("measured and")));
        QCOMPARE(other.frontierName(), QStringLiteral("Pareto frontier (modelled (roofline, this machine))"));
    }

    void storedSizeIsModelled()
    {
        PpaPointModel points;
        points.setPoints(test::syntheticRun(true, true));
        PpaChart chart;
        chart.addRun(&points, QStringLiteral("run"));
        chart.setAxis(PpaAxis::StoredSize);
        QTRY_COMPARE(chart.seriesPoints(0, Source::Modelled).size(), 4);
        QVERIFY(!chart.seriesVisible(0, Source::Measured));
        QCOMPARE(chart.seriesName(0, Source::Modelled), QStringLiteral("run \u00b7 modelled (cost model)"));
        QVERIFY2(chart.xAxisTitle().startsWith(QStringLiteral("Weights stored (MB) \u2014 modelled (cost model)")),
            qPrintable(chart.xAxisTitle()));
        // Dense: (1000 + 4·1200 + 1000) params × 4 B.
        QCOMPARE(chart.densePoints(), QList<QPointF>({QPointF(0.0272, 10)}));
    }

    void devicePickerChoosesThePrediction()
    {
        PpaPointModel points;
        points.setPoints(test::syntheticRun(true, true));
        PpaChart chart;
        chart.addRun(&points, QStringLiteral("run"));
        QTRY_VERIFY(!chart.xAxisIsLogarithmic());
        chart.setModelledDevice(QStringLiteral("H100 SXM"));
        QCOMPARE(points.modelledDevice(), QStringLiteral("H100 SXM"));
        QTRY_COMPARE(chart.seriesPoints(0, Source::Modelled).front(), QPointF(1e6, 10));
        QCOMPARE(chart.seriesName(0, Source::Modelled), QStringLiteral("run \u00b7 modelled (roofline, H100 SXM)"));
        // A datacentre roofline next to a CPU measurement spans decades: the x axis goes logarithmic.
        QVERIFY(chart.xAxisIsLogarithmic());
        QVERIFY(chart.xAxisTitle().contains(QStringLiteral("log scale")));
        // Measured only: the modelled series goes, and with it the log axis.
        chart.setShown(PpaChart::Shown::MeasuredOnly);
        QVERIFY(!chart.seriesVisible(0, Source::Modelled));
        QVERIFY(!chart.xAxisIsLogarithmic());
        QVERIFY(!anyContains(chart.legendNames(), QStringLiteral("H100")));
        chart.setShown(PpaChart::Shown::ModelledOnly);
        QVERIFY(!chart.seriesVisible(0, Source::Measured));
        QVERIFY(chart.frontierName().contains(QStringLiteral("H100 SXM")));
    }

    void tooltipShowsTheConfiguration()
    {
        PpaPointModel points;
        points.setPoints(test::syntheticRun(true, true));
        PpaChart chart;
        chart.addRun(&points, QStringLiteral("run-0001 sleb"));
        QTRY_COMPARE(chart.seriesPoints(0, Source::Measured).size(), 4);
        QCOMPARE(chart.rowFor(0, Source::Measured, 2), 2);
        const QString measured = chart.toolTipFor(0, Source::Measured, 2);
        for (const char *part : {"run-0001 sleb \u2014 measured point", "step 1: block 1", "block 1, block 2",
                 "measured 1250 vs modelled 1562.5 (roofline, this machine): gap \u221220 %", "Perplexity 13 measured"})
            QVERIFY2(measured.contains(QString::fromUtf8(part)),
                qPrintable(QStringLiteral("%1\n---\n%2").arg(part, measured)));
        const QString modelled = chart.toolTipFor(0, Source::Modelled, 0);
        QVERIFY2(modelled.contains(QStringLiteral("modelled point (roofline, this machine)")), qPrintable(modelled));
        QVERIFY(chart.toolTipFor(0, Source::Measured, 9).isEmpty());
    }

    void unevaluatedPointsLeftOut()
    {
        auto run = test::syntheticRun(true, true);
        run[1].perplexity = ppa::NaN;
        PpaPointModel points;
        points.setPoints(run);
        PpaChart chart;
        chart.addRun(&points, QStringLiteral("run"));
        QTRY_COMPARE(chart.seriesPoints(0, Source::Measured).size(), 3);
        QCOMPARE(chart.rowFor(0, Source::Measured, 1), 2); // the row after the gap
        chart.setLogQuality(true);
        QVERIFY(chart.yAxisIsLogarithmic());
        QVERIFY(chart.yAxisTitle().contains(QStringLiteral("log scale")));
        QCOMPARE(chart.seriesPoints(0, Source::Measured).size(), 3);
    }

    // A run searched without per-step evaluation: no perplexity, no KL. The chart says so rather
    // than drawing empty axes, and plots the search's own score when asked.
    void runWithoutEvaluation()
    {
        auto run = test::syntheticRun(true, true);
        for (std::size_t i = 0; i < run.size(); ++i) {
            run[i].perplexity = run[i].klToDense = ppa::NaN;
            if (run[i].step >= 0)
                run[i].searchScore = 100.0 + static_cast<double>(i);
        }
        PpaPointModel points;
        points.setPoints(run);
        PpaChart chart;
        chart.addRun(&points, QStringLiteral("run"));
        QTRY_VERIFY2(chart.title().contains(QStringLiteral("without per-step evaluation")), qPrintable(chart.title()));
        QCOMPARE(chart.seriesPoints(0, Source::Measured).size(), 0);
        chart.setQuality(PpaQuality::SearchScore);
        QTRY_COMPARE(chart.seriesPoints(0, Source::Measured),
            expectedPoints(points, PpaPointModel::PrefillMeasured, PpaPointModel::SearchScore));
        QVERIFY(!chart.seriesPoints(0, Source::Measured).isEmpty());
        QCOMPARE(chart.yAxisTitle(), QStringLiteral("Search score (calibration) (measured)"));
        QVERIFY2(!chart.title().contains(QStringLiteral("No ")), qPrintable(chart.title()));
    }

    void clearsRuns()
    {
        PpaPointModel points;
        points.setPoints(test::syntheticRun(true, true));
        PpaChart chart;
        chart.addRun(&points, QStringLiteral("run"));
        chart.clearRuns();
        QCOMPARE(chart.runCount(), 0);
        QTRY_VERIFY(chart.frontierPoints().isEmpty());
        QVERIFY(chart.densePoints().isEmpty());
        QVERIFY(chart.xAxisTitle().contains(QStringLiteral("no points")));
    }

    void exportsImages_data()
    {
        QTest::addColumn<QString>("suffix");
        QTest::newRow("png") << "png";
        QTest::newRow("svg") << "svg";
        QTest::newRow("pdf") << "pdf";
    }

    void exportsImages()
    {
        QFETCH(QString, suffix);
        QTemporaryDir dir;
        PpaPointModel points;
        points.setPoints(test::syntheticRun(true, true));
        PpaChart chart;
        chart.addRun(&points, QStringLiteral("run"));
        const QString path = dir.filePath(QStringLiteral("ppa.") + suffix);
        QString error;
        QVERIFY2(chart.exportTo(path, &error), qPrintable(error));
        QVERIFY(QFileInfo(path).size() > 1000);
        if (suffix == QLatin1String("svg")) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QString svg = QString::fromUtf8(f.readAll());
            QVERIFY(svg.contains(QStringLiteral("measured")));
            QVERIFY(svg.contains(QStringLiteral("modelled")));
        }
        QVERIFY(!chart.exportTo(dir.filePath(QStringLiteral("ppa.bmp")), &error));
    }
};

QTEST_MAIN(TestPpaChart)
#include "tst_ppachart.moc"
