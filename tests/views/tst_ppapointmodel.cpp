// The PPA point table: step order with the dense model first, every figure column labelled
// measured or modelled, measured columns that hold only measured figures, modelled columns that
// follow the chosen device's roofline, the gap between them, and tooltips with the configuration.
#include "ppapointmodel.h"
#include "ppatestpoints.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include <algorithm>
#include <cmath>

using namespace blockscope;
using namespace blockscope::views;

class TestPpaPointModel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void passesTheModelTester()
    {
        PpaPointModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setPoints(test::syntheticRun(true, true));
        model.setModelledDevice(QStringLiteral("H100 SXM"));
        model.setPoints({});
        model.setPoints(test::syntheticRun(false, false));
        QCOMPARE(model.rowCount(), 4);
    }

    void sortsByStepDenseFirst()
    {
        auto points = test::syntheticRun(true, true);
        std::reverse(points.begin(), points.end());
        PpaPointModel model;
        model.setPoints(points);
        QCOMPARE(model.data(model.index(0, PpaPointModel::Label)).toString(), QStringLiteral("dense"));
        QCOMPARE(model.denseRow(), 0);
        for (int row = 1; row < model.rowCount(); ++row)
            QCOMPARE(model.point(row).step, row - 1);
        QCOMPARE(model.data(model.index(2, PpaPointModel::Mask)).toString(), QStringLiteral("block 1, block 2"));
    }

    void headersSayMeasuredOrModelled_data()
    {
        QTest::addColumn<int>("column");
        QTest::addColumn<QString>("word");
        QTest::newRow("perplexity") << int(PpaPointModel::Perplexity) << "measured";
        QTest::newRow("KL") << int(PpaPointModel::KlToDense) << "measured";
        QTest::newRow("params") << int(PpaPointModel::ParamsKept) << "modelled";
        QTest::newRow("stored MB") << int(PpaPointModel::StoredMegabytes) << "modelled";
        QTest::newRow("prefill measured") << int(PpaPointModel::PrefillMeasured) << "measured";
        QTest::newRow("prefill modelled") << int(PpaPointModel::PrefillModelled) << "modelled, this machine";
        QTest::newRow("decode measured") << int(PpaPointModel::DecodeMeasured) << "measured";
        QTest::newRow("decode modelled") << int(PpaPointModel::DecodeModelled) << "modelled, this machine";
        QTest::newRow("prefill energy measured") << int(PpaPointModel::PrefillEnergyMeasured) << "measured";
        QTest::newRow("prefill energy modelled") << int(PpaPointModel::PrefillEnergyModelled) << "modelled";
        QTest::newRow("decode energy measured") << int(PpaPointModel::DecodeEnergyMeasured) << "measured";
        QTest::newRow("decode energy modelled") << int(PpaPointModel::DecodeEnergyModelled) << "modelled";
    }

    void headersSayMeasuredOrModelled()
    {
        QFETCH(int, column);
        QFETCH(QString, word);
        PpaPointModel model;
        model.setPoints(test::syntheticRun(true, true));
        // Headers break over lines to keep the columns narrow.
        const QString header = model.headerData(column, Qt::Horizontal).toString().simplified();
        QVERIFY2(header.contains(word), qPrintable(header));
    }

    void measuredColumnsHoldOnlyMeasuredFigures()
    {
        PpaPointModel model;
        model.setPoints(test::syntheticRun(true, true));
        QCOMPARE(model.value(0, PpaPointModel::PrefillMeasured), 1000.0);
        QCOMPARE(model.value(1, PpaPointModel::DecodeMeasured), 3.5);
        QCOMPARE(model.value(0, PpaPointModel::PrefillEnergyMeasured), 2.0); // mJ
        // Decode energy fell back to the model: not in a measured column, and the cell says why.
        QVERIFY(std::isnan(model.value(0, PpaPointModel::DecodeEnergyMeasured)));
        const QString why = model.data(model.index(0, PpaPointModel::DecodeEnergyMeasured), Qt::ToolTipRole).toString();
        QVERIFY2(why.contains(QStringLiteral("no energy counter")), qPrintable(why));
        QCOMPARE(model.data(model.index(0, PpaPointModel::DecodeEnergyMeasured)).toString(), QStringLiteral("\u2014"));
        // Peak memory is modelled on CPU, and its cell says so.
        QCOMPARE(model.data(model.index(0, PpaPointModel::PeakMemory)).toString(), QStringLiteral("8.5 modelled"));

        model.setPoints(test::syntheticRun(false, true));
        QVERIFY(std::isnan(model.value(0, PpaPointModel::PrefillMeasured)));
        QVERIFY(!model.anyMeasured());
        QCOMPARE(model.value(0, PpaPointModel::PrefillModelled), 1250.0);
    }

    void modelledColumnsFollowTheDevice()
    {
        PpaPointModel model;
        model.setPoints(test::syntheticRun(true, true));
        QCOMPARE(model.predictionDevices(), QStringList({QString(), QStringLiteral("H100 SXM")}));
        QCOMPARE(model.value(0, PpaPointModel::PrefillModelled), 1250.0);
        QCOMPARE(model.value(0, PpaPointModel::DecodeModelled), 3.2);
        QCOMPARE(model.modelledSource(), QStringLiteral("roofline, this machine"));
        // Measured 1000 against modelled 1250: 20 % slower than the roofline.
        QCOMPARE(model.value(0, PpaPointModel::PrefillGap), -20.0);
        QCOMPARE(model.data(model.index(0, PpaPointModel::PrefillGap)).toString(), QStringLiteral("\u221220 %"));

        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy headers(&model, &QAbstractItemModel::headerDataChanged);
        model.setModelledDevice(QStringLiteral("H100 SXM"));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(headers.count(), 1);
        QCOMPARE(model.value(0, PpaPointModel::PrefillModelled), 1e6);
        QCOMPARE(model.modelledSource(), QStringLiteral("roofline, H100 SXM"));
        QVERIFY(model.headerData(PpaPointModel::PrefillModelled, Qt::Horizontal)
                    .toString()
                    .simplified()
                    .contains(QStringLiteral("modelled, H100 SXM")));
        // A device no point was predicted for leaves the modelled columns empty.
        model.setModelledDevice(QStringLiteral("L4"));
        QVERIFY(!model.prediction(0));
        QVERIFY(std::isnan(model.value(0, PpaPointModel::PrefillModelled)));
        QVERIFY(std::isnan(model.value(0, PpaPointModel::PrefillGap)));
    }

    void describesEveryFigureWithItsProvenance()
    {
        PpaPointModel model;
        model.setPoints(test::syntheticRun(true, true));
        const QString text = model.describe(2);
        for (const char *part : {"step 1: block 1", "Configuration: block 1, block 2", "Perplexity 13 measured",
                 "tiny-ts", "Prefill: 1250 tokens/s measured", "Decode: 3 ms/token measured",
                 "mJ/token modelled (no energy counter: modelled)", "Peak memory: 8.5 MB modelled",
                 "Measured on cpu (test CPU, 1 thread)", "Modelled (roofline, this machine (CPU, calibrated))",
                 "Modelled (roofline, H100 SXM)", "weights stored", "MB modelled"})
            QVERIFY2(text.contains(QString::fromUtf8(part)), qPrintable(QStringLiteral("%1\n---\n%2").arg(part, text)));
        model.setPoints(test::syntheticRun(false, false));
        QVERIFY(model.describe(0).contains(QStringLiteral("Not measured on this machine")));
    }

    void axisColumns()
    {
        QCOMPARE(PpaPointModel::measuredColumn(PpaAxis::PrefillThroughput), int(PpaPointModel::PrefillMeasured));
        QCOMPARE(PpaPointModel::modelledColumn(PpaAxis::DecodeEnergy), int(PpaPointModel::DecodeEnergyModelled));
        QCOMPARE(PpaPointModel::measuredColumn(PpaAxis::StoredSize), -1);
        QVERIFY(!PpaPointModel::minimise(PpaAxis::PrefillThroughput));
        QVERIFY(PpaPointModel::minimise(PpaAxis::DecodeLatency));
        QVERIFY(!PpaPointModel::fromRoofline(PpaAxis::StoredSize));
    }
};

QTEST_MAIN(TestPpaPointModel)
#include "tst_ppapointmodel.moc"
