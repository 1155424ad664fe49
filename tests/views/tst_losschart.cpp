// Gate training's live loss curve: the step and evaluation models (through
// QAbstractItemModelTester), a resumed run that drops the steps it redoes, the chart growing with
// its models, the held-out points on the training loss's scale, and the x axis spanning the run.
#include "charts/losschart.h"
#include "gatetrainmodel.h"
#include "testdata.h"

#include <QAbstractItemModelTester>
#include <QFile>
#include <QTest>

using namespace blockscope;
using namespace blockscope::views;

namespace {
sparse::GateTrainStep step(qint64 index, double loss)
{
    sparse::GateTrainStep s;
    s.step = index;
    s.loss = loss;
    s.lr = 1e-3;
    s.tokens = 512 * 8 * (index + 1);
    s.seconds = 0.1 * static_cast<double>(index + 1);
    return s;
}

sparse::GateEvalPoint eval(qint64 index, std::vector<double> layerKl)
{
    sparse::GateEvalPoint p;
    p.step = index;
    p.layerKl = std::move(layerKl);
    double sum = 0;
    for (double v : p.layerKl)
        sum += v;
    p.kl = sum / static_cast<double>(p.layerKl.size());
    p.recallAtDensity = 0.9;
    p.densityAtThreshold = 0.3;
    return p;
}
} // namespace

class TestLossChart : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void modelsPassTester()
    {
        GateTrainModel steps;
        GateEvalModel evals;
        QAbstractItemModelTester t1(&steps, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester t2(&evals, QAbstractItemModelTester::FailureReportingMode::QtTest);
        for (int i = 0; i < 5; ++i)
            steps.appendStep(step(i, 10.0 - i));
        steps.appendStep(step(2, 7.5)); // resumed from step 2
        evals.appendPoint(eval(0, {0.5, 0.7}));
        evals.appendPoint(eval(50, {0.2, 0.3}));
        evals.appendPoint(eval(50, {0.2, 0.25}));
        steps.clear();
        evals.clear();
    }

    void resumeDropsTheStepsItRedoes()
    {
        GateTrainModel steps;
        for (int i = 0; i < 6; ++i)
            steps.appendStep(step(i, 10.0 - i));
        steps.appendStep(step(3, 6.9));
        QCOMPARE(steps.rowCount(), 4);
        QCOMPARE(steps.value(3, GateTrainModel::Loss), 6.9);
        QCOMPARE(steps.value(2, GateTrainModel::Step), 2.0);
    }

    void heldOutLossIsOnTheTrainingScale()
    {
        GateEvalModel evals;
        evals.appendPoint(eval(0, {0.5, 0.7}));
        QVERIFY(std::abs(evals.value(0, GateEvalModel::HeldOutLoss) - 12.0) < 1e-12); // 10 x (0.5 + 0.7)
        QVERIFY(std::abs(evals.value(0, GateEvalModel::Kl) - 0.6) < 1e-12);
        evals.appendPoint(eval(10, {}));
        QVERIFY(std::isnan(evals.value(1, GateEvalModel::HeldOutLoss)));
    }

    void chartAppendsPoints()
    {
        GateTrainModel steps;
        GateEvalModel evals;
        LossChart chart;
        chart.setModels(&steps, &evals);
        chart.setTotalSteps(300);
        QCOMPARE(chart.trainingPointCount(), 0);
        QCOMPARE(chart.xAxisTitle(), QStringLiteral("Step"));
        QCOMPARE(chart.yAxisTitle(), QStringLiteral("Loss"));
        QVERIFY(chart.xAxisMax() >= 300);
        evals.appendPoint(eval(0, {0.5, 0.7}));
        for (int i = 0; i < 10; ++i)
            steps.appendStep(step(i, 12.0 - 0.5 * i));
        QCOMPARE(chart.trainingPointCount(), 10);
        QCOMPARE(chart.evalPointCount(), 1);
        evals.appendPoint(eval(9, {0.3, 0.4}));
        QCOMPARE(chart.evalPointCount(), 2);
        steps.appendStep(step(5, 9.0)); // a resume from step 5
        QCOMPARE(chart.trainingPointCount(), 6);
        chart.setLogScale(true);
        QCOMPARE(chart.yAxisTitle(), QStringLiteral("Loss (log scale)"));
        QCOMPARE(chart.trainingPointCount(), 6);
        chart.setModels(nullptr, nullptr);
        QCOMPARE(chart.trainingPointCount(), 0);
    }

    void exports()
    {
        GateTrainModel steps;
        GateEvalModel evals;
        LossChart chart;
        chart.setModels(&steps, &evals);
        for (int i = 0; i < 10; ++i)
            steps.appendStep(step(i, 12.0 - 0.5 * i));
        const QString path = test::freshTempDir(QStringLiteral("loss-chart")) + "/loss.svg";
        QString error;
        QVERIFY2(chart.exportTo(path, &error), qPrintable(error));
        QVERIFY(QFile(path).size() > 0);
        QVERIFY(!chart.exportTo(test::freshTempDir(QStringLiteral("loss-chart-bad")) + "/loss.bmp", &error));
    }
};

QTEST_MAIN(TestLossChart)
#include "tst_losschart.moc"
