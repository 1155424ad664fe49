// The trace chart: one line per run fed from its trace model, growing as steps are appended,
// switching metric and axis, and exporting PNG, SVG and PDF files with title and legend.
#include "charts/chartexport.h"
#include "charts/tracechart.h"
#include "testdata.h"
#include "tracetablemodel.h"

#include <QFile>
#include <QImage>
#include <QRegularExpression>
#include <QTest>

using namespace blockscope;
using namespace blockscope::views;

namespace {
TraceStep step(int index, double score, double ppl, double kl)
{
    TraceStep s;
    s.index = index;
    s.chosen = {{UnitKind::Block, index}};
    s.chosenScore = score;
    s.perplexity = ppl;
    s.klToDense = kl;
    return s;
}
} // namespace

class TestTraceChart : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void seriesGrowWithTheModel()
    {
        TraceTableModel sleb, finercut;
        TraceChart chart;
        const int a = chart.addRun(&sleb, QStringLiteral("run-0001 sleb"));
        const int b = chart.addRun(&finercut, QStringLiteral("run-0002 finercut"));
        QCOMPARE(chart.runCount(), 2);
        QCOMPARE(chart.pointCount(a), 0);
        sleb.appendStep(step(0, 40, 41, 0.2));
        QCOMPARE(chart.pointCount(a), 1);
        sleb.appendStep(step(1, 55, 57, 0.4));
        sleb.setDensePerplexity(32.96);
        QCOMPARE(chart.pointCount(a), 3);
        finercut.appendStep(step(0, 0.1, TraceStep::NaN, TraceStep::NaN)); // not evaluated: no point
        QCOMPARE(chart.pointCount(b), 0);
        finercut.appendStep(step(1, 0.2, 36, 0.1));
        QCOMPARE(chart.pointCount(b), 1);
        QCOMPARE(chart.runName(a), QStringLiteral("run-0001 sleb"));
        chart.setRunName(a, QStringLiteral("run-0001 sleb (done)"));
        QCOMPARE(chart.runName(a), QStringLiteral("run-0001 sleb (done)"));
        sleb.setSteps({});
        QCOMPARE(chart.pointCount(a), 0);
    }

    void metricAndScale_data()
    {
        QTest::addColumn<int>("metric");
        QTest::addColumn<bool>("log");
        QTest::addColumn<int>("points");
        QTest::addColumn<QString>("yTitle");
        QTest::addColumn<bool>("logAxis");
        // dense (ppl 30, KL 0) + steps (score 0 / ppl 40 / KL 0.2) and (score 7 / ppl 90 / KL 0.9)
        QTest::newRow("perplexity") << int(TraceChart::Metric::Perplexity) << false << 3 << "Perplexity" << false;
        QTest::newRow("perplexity, log") << int(TraceChart::Metric::Perplexity) << true << 3 << "Perplexity (log scale)"
                                         << true;
        QTest::newRow("KL, dense at zero")
            << int(TraceChart::Metric::KlToDense) << false << 3 << "KL to dense (nats per token)" << false;
        QTest::newRow("KL ignores log") << int(TraceChart::Metric::KlToDense) << true << 3
                                        << "KL to dense (nats per token)" << false;
        QTest::newRow("score, steps only")
            << int(TraceChart::Metric::Score) << false << 2 << "Chosen candidate's score (method's metric)" << false;
    }
    void metricAndScale()
    {
        QFETCH(int, metric);
        QFETCH(bool, log);
        QFETCH(int, points);
        QFETCH(QString, yTitle);
        QFETCH(bool, logAxis);
        TraceTableModel trace;
        trace.appendStep(step(0, 0, 40, 0.2));
        trace.appendStep(step(1, 7, 90, 0.9));
        trace.setDensePerplexity(30);
        TraceChart chart;
        const int run = chart.addRun(&trace, QStringLiteral("run"));
        chart.setMetric(static_cast<TraceChart::Metric>(metric));
        chart.setLogScale(log);
        QCOMPARE(chart.pointCount(run), points);
        QCOMPARE(chart.yAxisTitle(), yTitle);
        QCOMPARE(chart.yAxisIsLogarithmic(), logAxis);
        QCOMPARE(chart.xAxisTitle(), QStringLiteral("Units removed"));
        // Back to the start: the line follows.
        chart.setMetric(TraceChart::Metric::Perplexity);
        chart.setLogScale(false);
        QCOMPARE(chart.pointCount(run), 3);
    }

    void growsOnScreenWithoutWarnings()
    {
        // A shown chart repaints between steps and metric switches: no frame may map a value
        // through a log axis that cannot take it (Qt warns about NaN geometry or zero logarithms).
        QTest::failOnWarning(QRegularExpression(QStringLiteral(".*NaN.*")));
        QTest::failOnWarning(QRegularExpression(QStringLiteral("Logarithms of zero.*")));
        TraceTableModel first, second;
        TraceChart chart;
        chart.setLogScale(true);
        chart.resize(800, 500);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        const int a = chart.addRun(&first, QStringLiteral("first"));
        QTest::qWait(20);
        first.appendStep(step(0, 1, 32, 0.1));
        QTest::qWait(20);
        first.setDensePerplexity(29);
        QTest::qWait(20);
        chart.addRun(&second, QStringLiteral("second"));
        QTest::qWait(20);
        second.appendStep(step(0, 1, 3000, 2));
        QTest::qWait(20);
        chart.setMetric(TraceChart::Metric::KlToDense);
        QTest::qWait(20);
        chart.setMetric(TraceChart::Metric::Score);
        QTest::qWait(20);
        QCOMPARE(chart.pointCount(a), 1);
    }

    void removeRunLeavesOthers()
    {
        TraceTableModel a, b;
        a.appendStep(step(0, 1, 40, 0.1));
        b.appendStep(step(0, 1, 50, 0.1));
        TraceChart chart;
        const int ra = chart.addRun(&a, QStringLiteral("a"));
        const int rb = chart.addRun(&b, QStringLiteral("b"));
        chart.setHighlighted({ra, rb});
        chart.removeRun(ra);
        QVERIFY(!chart.hasRun(ra));
        QCOMPARE(chart.runCount(), 1);
        QCOMPARE(chart.pointCount(rb), 1);
        b.appendStep(step(1, 1, 60, 0.2));
        QCOMPARE(chart.pointCount(rb), 2);
        a.appendStep(step(1, 1, 60, 0.2)); // no longer watched
        QCOMPARE(chart.pointCount(ra), 0);
    }

    // The x axis names what the drawn runs step through: counts, EvoPress generations, or both.
    void xAxisFollowsTheRuns()
    {
        TraceTableModel greedy, evo;
        greedy.appendStep(step(0, 1, 40, 0.1));
        evo.appendStep(step(0, 2, 50, 0.1));
        TraceChart chart;
        const int g = chart.addRun(&greedy, QStringLiteral("sleb"));
        QCOMPARE(chart.xAxisTitle(), QStringLiteral("Units removed"));
        const int e = chart.addRun(&evo, QStringLiteral("evopress"), true);
        QCOMPARE(chart.xAxisTitle(), QStringLiteral("Units removed (EvoPress: generation)"));
        chart.removeRun(g);
        QCOMPARE(chart.xAxisTitle(), QStringLiteral("EvoPress generation"));
        chart.setMetric(TraceChart::Metric::KlToDense); // fresh axes keep it
        QCOMPARE(chart.xAxisTitle(), QStringLiteral("EvoPress generation"));
        chart.removeRun(e);
        QCOMPARE(chart.xAxisTitle(), QStringLiteral("Units removed"));
    }

    void formatForPath_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<bool>("known");
        QTest::addColumn<int>("format");
        QTest::newRow("png") << "/tmp/a.png" << true << int(TraceChart::Format::Png);
        QTest::newRow("upper-case SVG") << "/tmp/a.SVG" << true << int(TraceChart::Format::Svg);
        QTest::newRow("pdf") << "chart.pdf" << true << int(TraceChart::Format::Pdf);
        QTest::newRow("jpeg refused") << "chart.jpg" << false << 0;
        QTest::newRow("no suffix") << "chart" << false << 0;
    }
    void formatForPath()
    {
        QFETCH(QString, path);
        QFETCH(bool, known);
        QFETCH(int, format);
        TraceChart::Format f = TraceChart::Format::Png;
        QCOMPARE(TraceChart::formatForPath(path, &f), known);
        if (known)
            QCOMPARE(int(f), format);
    }

    void exports_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("starts"); // empty: check as an image
        QTest::newRow("png") << "trace.png" << QByteArray();
        QTest::newRow("svg") << "trace.svg" << QByteArray("<svg");
        QTest::newRow("pdf") << "trace.pdf" << QByteArray("%PDF");
    }
    void exports()
    {
        QFETCH(QString, name);
        QFETCH(QByteArray, starts);
        TraceTableModel sleb, finercut;
        sleb.setDensePerplexity(32.96);
        finercut.setDensePerplexity(32.96);
        for (int i = 0; i < 3; ++i) {
            sleb.appendStep(step(i, 0, 40 + 20 * i, 0.2 * (i + 1)));
            finercut.appendStep(step(i, 0, 35 + 10 * i, 0.1 * (i + 1)));
        }
        TraceChart chart;
        chart.addRun(&sleb, QStringLiteral("run-0001 sleb"));
        chart.addRun(&finercut, QStringLiteral("run-0002 finercut"));
        chart.setTitle(QStringLiteral("Pruning trace: demo model"));
        const QString dir = test::freshTempDir(QStringLiteral("tst_tracechart"));
        const QString path = dir + QLatin1Char('/') + name;
        TraceChart::Format format;
        QVERIFY(TraceChart::formatForPath(path, &format));
        QString error;
        QVERIFY2(chart.exportTo(path, format, &error), qPrintable(error));
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        QVERIFY(bytes.size() > 1000);
        if (starts.isEmpty()) {
            const QImage image(path);
            // Never shown: the fallback size, at twice the resolution.
            QCOMPARE(image.size(), QSize(1920, 1200));
            // Not a blank page: the lines and text leave plenty of non-white pixels.
            int ink = 0;
            for (int y = 0; y < image.height(); y += 4)
                for (int x = 0; x < image.width(); x += 4)
                    ink += image.pixelColor(x, y) != QColor(Qt::white);
            QVERIFY2(ink > 2000, qPrintable(QString::number(ink)));
        } else if (starts == "<svg") {
            QVERIFY(bytes.contains("<svg"));
            QVERIFY(bytes.contains("run-0001 sleb") || bytes.contains("<path")); // legend text or outlines
        } else {
            QVERIFY(bytes.startsWith(starts));
        }
        // For looking at the result: BLOCKSCOPE_SCREENSHOT_DIR=... keeps a copy.
        const QString shots = qEnvironmentVariable("BLOCKSCOPE_SCREENSHOT_DIR");
        if (!shots.isEmpty()) {
            QFile::remove(shots + QLatin1Char('/') + name);
            QFile::copy(path, shots + QLatin1Char('/') + name);
        }
    }

    // The options people set for papers and slides: size in cm at a DPI, font scale, dark and
    // greyscale themes; the chart on screen is put back as it was.
    void exportOptions()
    {
        TraceTableModel a, b;
        for (int i = 0; i < 3; ++i) {
            a.appendStep(step(i, 0, 40 + 20 * i, 0.2 * (i + 1)));
            b.appendStep(step(i, 0, 35 + 10 * i, 0.1 * (i + 1)));
        }
        TraceChart chart;
        chart.addRun(&a, QStringLiteral("run-0001 sleb"));
        chart.addRun(&b, QStringLiteral("run-0002 finercut"));
        const QString dir = test::freshTempDir(QStringLiteral("tst_tracechart_options"));
        const ChartExportOptions saved = chartExportOptions();
        ChartExportOptions o;
        o.width = 10;
        o.height = 5;
        o.centimetres = true;
        o.dpi = 300;
        o.fontScale = 2;
        o.theme = ChartExportOptions::Theme::Dark;
        setChartExportOptions(o);
        QString error;
        const QString dark = dir + QStringLiteral("/dark.png");
        QVERIFY2(chart.exportTo(dark, TraceChart::Format::Png, &error), qPrintable(error));
        QImage image(dark);
        // 10 x 5 cm at 96 px per inch is 378 x 189 px; at 300 DPI 1181 x 591 pixels.
        QCOMPARE(image.size(), QSize(1181, 591));
        QCOMPARE(qRound(image.dotsPerMeterX() * 0.0254), 300);
        QCOMPARE(image.pixelColor(3, 3), QColor(0x1e, 0x1e, 0x1e));

        o.theme = ChartExportOptions::Theme::Greyscale;
        o.dpi = 96;
        setChartExportOptions(o);
        const QString grey = dir + QStringLiteral("/grey.png");
        QVERIFY2(chart.exportTo(grey, TraceChart::Format::Png, &error), qPrintable(error));
        image = QImage(grey);
        QCOMPARE(image.size(), QSize(378, 189));
        int coloured = 0, ink = 0;
        for (int y = 0; y < image.height(); ++y)
            for (int x = 0; x < image.width(); ++x) {
                const QColor c = image.pixelColor(x, y);
                coloured += std::max({std::abs(c.red() - c.green()), std::abs(c.green() - c.blue()),
                                std::abs(c.red() - c.blue())})
                    > 12;
                ink += c != QColor(Qt::white);
            }
        QVERIFY2(coloured == 0 && ink > 1000, qPrintable(QStringLiteral("%1 coloured, %2 ink").arg(coloured).arg(ink)));

        // Font scale: the SVG's largest font is twice the unscaled one's.
        const auto largestFont = [&](double scale) {
            ChartExportOptions f;
            f.fontScale = scale;
            setChartExportOptions(f);
            const QString svg = dir + QStringLiteral("/font-%1.svg").arg(scale);
            QString why;
            if (!chart.exportTo(svg, TraceChart::Format::Svg, &why))
                return 0.0;
            QFile file(svg);
            file.open(QIODevice::ReadOnly);
            double largest = 0;
            const QRegularExpression re(QStringLiteral("font-size=\"([0-9.]+)"));
            for (auto it = re.globalMatch(QString::fromUtf8(file.readAll())); it.hasNext();)
                largest = std::max(largest, it.next().captured(1).toDouble());
            return largest;
        };
        const double one = largestFont(1), two = largestFont(2);
        QVERIFY2(one > 0 && std::abs(two / one - 2) < 0.15, qPrintable(QStringLiteral("%1 %2").arg(one).arg(two)));
        setChartExportOptions(saved);
        // Put back: the next export with the defaults is the chart as shown, white.
        const QString plain = dir + QStringLiteral("/plain.png");
        QVERIFY(chart.exportTo(plain, TraceChart::Format::Png, &error));
        QCOMPARE(QImage(plain).pixelColor(3, 3), QColor(Qt::white));
    }

    void exportToUnwritablePathFails()
    {
        TraceTableModel trace;
        trace.appendStep(step(0, 1, 40, 0.1));
        TraceChart chart;
        chart.addRun(&trace, QStringLiteral("a"));
        QString error;
        QVERIFY(!chart.exportTo(QStringLiteral("/no/such/dir/chart.png"), TraceChart::Format::Png, &error));
        QVERIFY(error.contains(QStringLiteral("/no/such/dir/chart.png")));
    }
};

QTEST_MAIN(TestTraceChart)
#include "tst_tracechart.moc"
