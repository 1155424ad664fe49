// The block-shares chart: one bar per unit fed from the model, removed units as hatched stubs
// with "(removed)" under them, titles with provenance, and image and data exports.
#include "charts/blockshareschart.h"
#include "ppatestpoints.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace blockscope;
using namespace blockscope::views;

class TestBlockSharesChart : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void barsWithRemovedUnitsMarked()
    {
        BlockShareModel model;
        BlockSharesChart chart;
        chart.setModel(&model);
        QCOMPARE(chart.title(), QStringLiteral("Block shares: choose a configuration"));
        model.setPoint(test::syntheticRun(true, true)[2]); // blocks 1 and 2 removed
        QTRY_COMPARE(chart.categories().size(), 10);
        QCOMPARE(chart.categories()[0], QStringLiteral("embedding"));
        QCOMPARE(chart.categories()[3], QStringLiteral("attn 1 (removed)"));
        QCOMPARE(chart.categories()[9], QStringLiteral("lm_head"));
        const QList<double> shares = chart.shares();
        const QList<double> markers = chart.removedMarkers();
        QCOMPARE(shares.size(), 10);
        QCOMPARE(shares[0], 100.0 * 1000 / 4400);
        for (int i : {3, 4, 5, 6}) {
            QCOMPARE(shares[i], 0.0);
            QVERIFY(markers[i] > 0);
        }
        QCOMPARE(markers[0], 0.0);
        QCOMPARE(chart.shareSetName(), QStringLiteral("Share of parameters (modelled)"));
        QCOMPARE(chart.title(), QStringLiteral("step 1: block 1 \u2014 Share of parameters (modelled)"));
        QCOMPARE(chart.shareAxisTitle(), QStringLiteral("% of kept total (modelled)"));

        model.setMetric(BlockShareMetric::Time);
        QTRY_COMPARE(chart.shareSetName(), QStringLiteral("Share of prefill time (measured)"));
        QTRY_COMPARE(chart.shareAxisTitle(), QStringLiteral("% of kept total (measured)"));
        QCOMPARE(chart.shares()[0], 100.0 * 1000 / 4400); // time is proportional to parameters here
    }

    void exports()
    {
        QTemporaryDir dir;
        BlockShareModel model;
        model.setPoint(test::syntheticRun(true, true)[2]);
        BlockSharesChart chart;
        chart.setModel(&model);
        QString error;
        for (const char *suffix : {"png", "svg", "pdf"}) {
            const QString path = dir.filePath(QStringLiteral("blocks.") + QLatin1String(suffix));
            QVERIFY2(chart.exportTo(path, &error), qPrintable(error));
            QVERIFY(QFileInfo(path).size() > 500);
        }
        const QString csv = dir.filePath(QStringLiteral("blocks.csv"));
        QVERIFY2(chart.exportData(csv, &error), qPrintable(error));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(f.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 11);
        QCOMPARE(lines[0],
            QStringLiteral("configuration,unit,removed,params_share_pct_modelled,prefill_flops_share_pct_modelled,"
                           "decode_bytes_share_pct_modelled,prefill_time_share_pct,prefill_time_ms,"
                           "prefill_time_provenance,prefill_energy_share_pct,prefill_mj_per_token,"
                           "prefill_energy_provenance"));
        QCOMPARE(lines[4], QStringLiteral("step 1: block 1,attn 1,1,0,0,0,0,,,0,,"));
        QVERIFY2(lines[1].startsWith(QStringLiteral("step 1: block 1,embedding,0,22.72727273,")), qPrintable(lines[1]));
        QVERIFY2(lines[1].endsWith(QStringLiteral(",measured,22.72727273,0.001,measured")), qPrintable(lines[1]));

        const QString json = dir.filePath(QStringLiteral("blocks.json"));
        QVERIFY2(chart.exportData(json, &error), qPrintable(error));
        QFile j(json);
        QVERIFY(j.open(QIODevice::ReadOnly));
        const QJsonObject root = QJsonDocument::fromJson(j.readAll()).object();
        const QJsonArray units = root.value(QStringLiteral("units")).toArray();
        QCOMPARE(units.size(), 10);
        const QJsonObject embedding = units[0].toObject();
        QCOMPARE(
            embedding.value(QStringLiteral("params_share")).toObject().value(QStringLiteral("provenance")).toString(),
            QStringLiteral("modelled"));
        QCOMPARE(embedding.value(QStringLiteral("prefill_time_share"))
                     .toObject()
                     .value(QStringLiteral("provenance"))
                     .toString(),
            QStringLiteral("measured"));
        QCOMPARE(embedding.value(QStringLiteral("prefill_mj_per_token"))
                     .toObject()
                     .value(QStringLiteral("value"))
                     .toDouble(),
            0.001);
        QVERIFY(units[3].toObject().value(QStringLiteral("removed")).toBool());
        QCOMPARE(units[3]
                     .toObject()
                     .value(QStringLiteral("prefill_time_ms"))
                     .toObject()
                     .value(QStringLiteral("provenance"))
                     .toString(),
            QStringLiteral("none"));
        QVERIFY(!chart.exportData(dir.filePath(QStringLiteral("blocks.txt")), &error));
    }
};

QTEST_MAIN(TestBlockSharesChart)
#include "tst_blockshareschart.moc"
