// The sparsity sweep's points and chart: the point model (through QAbstractItemModelTester), one
// line per sweep growing as points arrive, x = 1 - tile density, the dense perplexity as a dashed
// line across the axis, and exports of the chart and of the points.
#include "charts/sparsitychart.h"
#include "sparsitypointmodel.h"
#include "testdata.h"

#include <QAbstractItemModelTester>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <cmath>

using namespace blockscope;
using namespace blockscope::views;

namespace {
sparse::SparseEvalResult point(double density, double tileDensity, double ppl, double dense = 4.7)
{
    sparse::SparseEvalResult r;
    r.rule.kind = sparse::MaskRule::Kind::Density;
    r.rule.value = density;
    r.perplexity = ppl;
    r.densePerplexity = dense;
    r.mean.tileDensity = tileDensity;
    r.mean.pairDensity = tileDensity * 1.1;
    r.mean.recallMean = 0.9;
    r.mean.recallMin = 0.4;
    r.mean.emptyRows = 0;
    r.tokens = 4096;
    return r;
}
} // namespace

class TestSparsityChart : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void modelPassesTester()
    {
        SparsityPointModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.appendResult(point(1.0, 1.0, 4.7));
        model.appendResult(point(0.5, 0.55, 4.9));
        model.setResults({point(0.3, 0.35, 5.5)});
        model.clear();
    }

    void modelColumns()
    {
        SparsityPointModel model;
        QVERIFY(std::isnan(model.densePerplexity()));
        model.appendResult(point(0.5, 0.55, 4.9));
        QCOMPARE(model.densePerplexity(), 4.7);
        QVERIFY(std::abs(model.value(0, SparsityPointModel::Sparsity) - 0.45) < 1e-12);
        QCOMPARE(model.value(0, SparsityPointModel::Perplexity), 4.9);
        QVERIFY(model.data(model.index(0, SparsityPointModel::Rule)).toString().contains(QLatin1String("0.5")));
        QCOMPARE(model.headerData(SparsityPointModel::Sparsity, Qt::Horizontal).toString(), QStringLiteral("Sparsity"));
    }

    void seriesGrowWithTheirModels()
    {
        SparsityPointModel gates, baseline;
        SparsityChart chart;
        QCOMPARE(chart.xAxisTitle(), QStringLiteral("Sparsity (1 \u2212 tile density, mean over layers)"));
        QCOMPARE(chart.yAxisTitle(), QStringLiteral("Perplexity"));
        const int a = chart.addSeries(&gates, QStringLiteral("gates"));
        const int b = chart.addSeries(&baseline, QStringLiteral("static"));
        QCOMPARE(chart.seriesCount(), 2);
        QCOMPARE(chart.seriesName(b), QStringLiteral("static"));
        gates.appendResult(point(1.0, 1.0, 4.7));
        gates.appendResult(point(0.5, 0.55, 4.9));
        baseline.appendResult(point(0.5, 0.55, 6.2));
        QCOMPARE(chart.pointCount(a), 2);
        QCOMPARE(chart.pointCount(b), 1);
        chart.clearSeries();
        QCOMPARE(chart.seriesCount(), 0);
    }

    void denseLineSpansTheAxis()
    {
        SparsityPointModel gates;
        SparsityChart chart;
        QVERIFY(!chart.hasDenseLine());
        chart.addSeries(&gates, QStringLiteral("gates"));
        gates.appendResult(point(0.1, 0.14, 7.0));
        chart.setDensePerplexity(4.7);
        QVERIFY(chart.hasDenseLine());
        QTRY_VERIFY(chart.denseLinePoints().size() == 2);
        const auto line = chart.denseLinePoints();
        QCOMPARE(line[0].y(), 4.7);
        QCOMPARE(line[1].y(), 4.7);
        QVERIFY(line[0].x() <= 0.0);
        QVERIFY(line[1].x() >= 0.86);
        chart.setDensePerplexity(std::nan(""));
        QVERIFY(!chart.hasDenseLine());
        chart.setLogScale(true);
        QVERIFY(chart.yAxisIsLogarithmic());
        QCOMPARE(chart.yAxisTitle(), QStringLiteral("Perplexity (log scale)"));
    }

    void exportsChart_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("magic");
        QTest::newRow("png") << "sweep.png" << QByteArray("\x89PNG");
        QTest::newRow("svg") << "sweep.svg" << QByteArray("<?xml");
        QTest::newRow("pdf") << "sweep.pdf" << QByteArray("%PDF");
    }
    void exportsChart()
    {
        QFETCH(QString, name);
        QFETCH(QByteArray, magic);
        SparsityPointModel gates;
        SparsityChart chart;
        chart.addSeries(&gates, QStringLiteral("gates"));
        gates.appendResult(point(0.5, 0.55, 4.9));
        chart.setDensePerplexity(4.7);
        const QString path = test::freshTempDir(QStringLiteral("sparsity-") + name) + QLatin1Char('/') + name;
        QString error;
        QVERIFY2(chart.exportTo(path, &error), qPrintable(error));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.read(magic.size()), magic);
    }

    void exportsPoints()
    {
        SparsityPointModel gates, baseline;
        SparsityChart chart;
        chart.addSeries(&gates, QStringLiteral("gates"));
        chart.addSeries(&baseline, QStringLiteral("static, sink + window"));
        gates.appendResult(point(1.0, 1.0, 4.7));
        gates.appendResult(point(0.5, 0.55, 4.9));
        baseline.appendResult(point(0.5, 0.55, 6.2));
        chart.setDensePerplexity(4.7);
        const QString dir = test::freshTempDir(QStringLiteral("sparsity-points"));
        QString error;
        QVERIFY2(chart.exportPoints(dir + "/points.csv", &error), qPrintable(error));
        QFile csv(dir + "/points.csv");
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(csv.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 4);
        // The experiment export's sweep columns (store/traceexport.h) after the series name.
        QVERIFY2(lines[0].startsWith(QLatin1String("series,rule,kind,value,perplexity,tile_density,sparsity")),
            qPrintable(lines[0]));
        QVERIFY2(lines[3].startsWith(QLatin1String("\"static, sink + window\",")), qPrintable(lines[3]));
        QVERIFY2(lines[2].contains(QLatin1String(",4.9,0.55,")), qPrintable(lines[2]));

        QVERIFY2(chart.exportPoints(dir + "/points.json", &error), qPrintable(error));
        QFile json(dir + "/points.json");
        QVERIFY(json.open(QIODevice::ReadOnly));
        const QJsonObject root = QJsonDocument::fromJson(json.readAll()).object();
        QCOMPARE(root.value("dense_perplexity").toDouble(), 4.7);
        const QJsonArray series = root.value("series").toArray();
        QCOMPARE(series.size(), 2);
        QCOMPARE(series[0].toObject().value("points").toArray().size(), 2);
        QCOMPARE(series[0].toObject().value("points").toArray()[1].toObject().value("perplexity").toDouble(), 4.9);

        QVERIFY(!chart.exportPoints(dir + "/points.txt", &error));
    }
};

QTEST_MAIN(TestSparsityChart)
#include "tst_sparsitychart.moc"
