// The PPA page's data files: CSV with a row per point and every figure's column named measured or
// modelled (the modelled ones for the device shown), JSON with every figure's provenance.
#include "ppaexport.h"
#include "ppapointmodel.h"
#include "ppatestpoints.h"
#include "store/ppajson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace blockscope;
using namespace blockscope::views;

namespace {
QStringList splitCsvLine(const QString &line)
{
    QStringList fields;
    QString field;
    bool quoted = false;
    for (int i = 0; i < line.size(); ++i) {
        const QChar c = line[i];
        if (quoted) {
            if (c == QLatin1Char('"') && i + 1 < line.size() && line[i + 1] == QLatin1Char('"'))
                field += c, ++i;
            else if (c == QLatin1Char('"'))
                quoted = false;
            else
                field += c;
        } else if (c == QLatin1Char('"')) {
            quoted = true;
        } else if (c == QLatin1Char(',')) {
            fields << field;
            field.clear();
        } else {
            field += c;
        }
    }
    fields << field;
    return fields;
}
} // namespace

class TestPpaExport : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void csvNamesEveryFigure()
    {
        PpaPointModel a, b;
        a.setPoints(test::syntheticRun(true, true));
        b.setPoints(test::syntheticRun(false, true));
        b.setModelledDevice(QStringLiteral("H100 SXM"));
        const QString csv
            = QString::fromUtf8(ppaPointsCsv({{"run-0001", "run-0001 sleb", &a}, {"run-0002", "b, modelled", &b}}));
        const QStringList lines = csv.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 1 + 4 + 4);
        const QStringList header = lines[0].split(QLatin1Char(','));
        // Every figure column says which it is.
        for (const QString &column : header)
            if (column.contains(QStringLiteral("per_")) || column.contains(QStringLiteral("perplexity"))
                || column.contains(QStringLiteral("kl_")) || column.contains(QStringLiteral("_mb")))
                QVERIFY2(column.contains(QStringLiteral("measured")) || column.contains(QStringLiteral("modelled"))
                        || column == QLatin1String("peak_memory_mb"),
                    qPrintable(column));
        QVERIFY(header.contains(QStringLiteral("peak_memory_provenance")));
        auto field = [&](int line, const char *name) {
            return splitCsvLine(lines[line]).value(static_cast<int>(header.indexOf(QLatin1String(name))));
        };
        QCOMPARE(field(1, "configuration"), QStringLiteral("dense"));
        QCOMPARE(field(1, "prefill_tokens_per_s_measured"), QStringLiteral("1000"));
        QCOMPARE(field(1, "prefill_tokens_per_s_measured_min"), QStringLiteral("900"));
        QCOMPARE(field(1, "prefill_tokens_per_s_modelled"), QStringLiteral("1250"));
        QCOMPARE(field(1, "prefill_gap_pct"), QStringLiteral("-20"));
        QCOMPARE(field(1, "modelled_on"), QStringLiteral("roofline, this machine (CPU, calibrated)"));
        QCOMPARE(field(1, "measured_on"), QStringLiteral("cpu (test CPU, 1 thread)"));
        QCOMPARE(field(1, "decode_mj_per_token_measured"), QString()); // a modelled fallback is not measured
        QCOMPARE(field(1, "peak_memory_provenance"), QStringLiteral("modelled"));
        QCOMPARE(field(3, "mask"), QStringLiteral("block 1, block 2"));
        QCOMPARE(field(5, "run_name"), QStringLiteral("b, modelled"));
        QCOMPARE(field(5, "prefill_tokens_per_s_measured"), QString());
        QCOMPARE(field(5, "prefill_tokens_per_s_modelled"), QStringLiteral("1000000"));
        QCOMPARE(field(5, "modelled_on"), QStringLiteral("roofline, H100 SXM"));
    }

    void jsonCarriesProvenance()
    {
        PpaPointModel a;
        a.setPoints(test::syntheticRun(true, true));
        const QJsonObject root = QJsonDocument::fromJson(
            ppaPointsJson({{"run-0001", "run-0001 sleb", &a}}, QJsonObject{{"experiment", "x.h5"}}))
                                     .object();
        QCOMPARE(root.value(QStringLiteral("experiment")).toString(), QStringLiteral("x.h5"));
        const QJsonArray runs = root.value(QStringLiteral("runs")).toArray();
        QCOMPARE(runs.size(), 1);
        const QJsonArray points = runs[0].toObject().value(QStringLiteral("points")).toArray();
        QCOMPARE(points.size(), 4);
        const QJsonObject dense = points[0].toObject();
        auto provenance
            = [](const QJsonValue &v) { return v.toObject().value(QStringLiteral("provenance")).toString(); };
        // The one JSON form of a point (store/ppajson.h): quality as numbers, costs modelled as a
        // whole, every measured figure with its provenance, every prediction modelled.
        QCOMPARE(dense.value(QStringLiteral("perplexity")).toDouble(), test::syntheticRun(true, true)[0].perplexity);
        const QJsonObject costs = dense.value(QStringLiteral("costs")).toObject();
        QCOMPARE(costs.value(QStringLiteral("provenance")).toString(), QStringLiteral("modelled"));
        QVERIFY(costs.value(QStringLiteral("stored_bytes")).isDouble());
        const QJsonObject measured = dense.value(QStringLiteral("measured")).toObject();
        QCOMPARE(provenance(measured.value(QStringLiteral("prefill_tokens_per_second"))), QStringLiteral("measured"));
        QCOMPARE(measured.value(QStringLiteral("prefill_tokens_per_second"))
                     .toObject()
                     .value(QStringLiteral("max"))
                     .toDouble(),
            1100.0);
        QCOMPARE(provenance(measured.value(QStringLiteral("decode_joules_per_token"))), QStringLiteral("modelled"));
        const QJsonArray predictions = dense.value(QStringLiteral("predictions")).toArray();
        QCOMPARE(predictions.size(), 2);
        QCOMPARE(provenance(predictions[1]), QStringLiteral("modelled"));
        QCOMPARE(predictions[1].toObject().value(QStringLiteral("device")).toString(), QStringLiteral("H100 SXM"));
        const QJsonArray units = costs.value(QStringLiteral("units")).toArray();
        QCOMPARE(units.size(), 10);
        QCOMPARE(provenance(units[0].toObject().value(QStringLiteral("seconds"))), QStringLiteral("measured"));
        // The same bytes as the experiment export writes for the point.
        QCOMPARE(QJsonDocument(dense).toJson(QJsonDocument::Compact),
            QJsonDocument::fromJson(QByteArray::fromStdString(ppaPointJson(a.point(0)).dump()))
                .toJson(QJsonDocument::Compact));
    }

    void writesAllOrNothing()
    {
        QTemporaryDir dir;
        QString error;
        QVERIFY(writeExportFile(dir.filePath(QStringLiteral("a.csv")), "x\n", &error));
        QVERIFY(!writeExportFile(dir.filePath(QStringLiteral("no/such/folder/a.csv")), "x\n", &error));
        QVERIFY2(error.contains(QStringLiteral("no/such/folder/a.csv")), qPrintable(error));
        QCOMPARE(csvField(QStringLiteral("a, \"b\"")), QStringLiteral("\"a, \"\"b\"\"\""));
        QCOMPARE(csvNumber(ppa::NaN), QString());
    }
};

QTEST_MAIN(TestPpaExport)
#include "tst_ppaexport.moc"
