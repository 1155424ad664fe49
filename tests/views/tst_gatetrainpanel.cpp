// Gate training from the attention page with the real engine on stories260K: the request the form
// describes and what stops it, a run whose loss curve and evaluations grow live and whose gate
// file is announced, and a cancel that keeps the state so Resume carries the curve on to the end.
#include "charts/losschart.h"
#include "gatetrainmodel.h"
#include "gatetrainpanel.h"
#include "jobrunner.h"
#include "testdata.h"

#include <QFileInfo>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>

using namespace blockscope;
using namespace blockscope::views;

class TestGateTrainPanel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void requestFromTheForm()
    {
        JobRunner runner;
        GateTrainPanel panel(&runner);
        QCOMPARE(panel.missing(), QStringLiteral("Open a model first"));
        QVERIFY(!panel.trainButton()->isEnabled());
        panel.setModel(QStringLiteral("/m/stories260K.bin"));
        QVERIFY(panel.trainButton()->isEnabled());
        QVERIFY2(panel.outputPath().endsWith(QLatin1String("/gates/stories260K-B16.seergate.safetensors")),
            qPrintable(panel.outputPath()));
        QCOMPARE(panel.missing(), QStringLiteral("Choose a calibration text file"));
        panel.setSteps(40);
        panel.setResume(true);
        panel.setOutputPath(QStringLiteral("/tmp/x.seergate.safetensors"));
        panel.setModel(QStringLiteral("/m/other.bin")); // a chosen output path stays
        const sparse::GateTrainJob r = panel.request();
        QCOMPARE(r.modelPath, std::string("/m/other.bin"));
        QCOMPARE(r.outPath, std::string("/tmp/x.seergate.safetensors"));
        QCOMPARE(r.options.steps, std::int64_t(40));
        QCOMPARE(r.options.blockSize, 16);
        QCOMPARE(r.options.batch, 8);
        QCOMPARE(r.options.lr, 1e-3);
        QCOMPARE(r.protocol, std::string("tiny-ts"));
        QVERIFY(r.resume);
    }

    void trainCancelAndResume()
    {
        BLOCKSCOPE_REQUIRE_DATA(model, "models/stories260K/stories260K.bin");
        BLOCKSCOPE_REQUIRE_DATA(text, "text/tinystories_valid_head.txt");
        const QString out = test::freshTempDir(QStringLiteral("gate-train-panel")) + "/g.seergate.safetensors";
        JobRunner runner;
        GateTrainPanel panel(&runner);
        panel.setModel(model);
        panel.setCalibrationText(text);
        panel.setOutputPath(out);
        panel.setSteps(40);
        panel.setHeldOutWindows(4); // enough for the KL to fall; the feature cache dominates the time
        panel.setCalibrationWindows(24);
        QSignalSpy ended(&panel, &GateTrainPanel::trainingEnded);
        QSignalSpy written(&panel, &GateTrainPanel::gatesWritten);
        QSignalSpy steps(&panel, &GateTrainPanel::stepShown);

        // Cancel once a few steps have arrived: the curve keeps them, Resume is ticked.
        connect(&panel, &GateTrainPanel::stepShown, &panel, [&](qint64 step) {
            if (step == 10)
                panel.cancel();
        });
        panel.train();
        QVERIFY(panel.isRunning());
        QVERIFY(!panel.trainButton()->isEnabled());
        // Generous: a guard against a hang, not a timing check (a loaded two-core CI machine is slow).
        QVERIFY(ended.wait(600000));
        QCOMPARE(ended.takeFirst().at(0).toString(), QStringLiteral("cancelled"));
        QVERIFY(panel.resume());
        QVERIFY2(panel.statusText().contains(QLatin1String("Cancelled after step")), qPrintable(panel.statusText()));
        const int shown = panel.steps()->rowCount();
        QVERIFY(shown >= 11 && shown < 40);
        QVERIFY(panel.chart()->trainingPointCount() == shown);
        QVERIFY(written.isEmpty());
        disconnect(&panel, &GateTrainPanel::stepShown, &panel, nullptr);

        panel.train(); // resumes
        QVERIFY(ended.wait(600000));
        QCOMPARE(ended.takeFirst().at(0).toString(), QStringLiteral("complete"));
        QCOMPARE(written.count(), 1);
        QCOMPARE(written.at(0).at(0).toString(), out);
        QVERIFY(QFileInfo::exists(out));
        // One contiguous curve from step 0 to the last, whatever the resume redid.
        QCOMPARE(panel.steps()->rowCount(), 40);
        for (int row = 0; row < 40; ++row)
            QCOMPARE(panel.steps()->value(row, GateTrainModel::Step), double(row));
        QVERIFY(panel.evaluations()->rowCount() >= 2);
        const double first = panel.evaluations()->value(0, GateEvalModel::Kl);
        const double last = panel.evaluations()->value(panel.evaluations()->rowCount() - 1, GateEvalModel::Kl);
        QVERIFY2(last < first, qPrintable(QStringLiteral("held-out KL %1 -> %2").arg(first).arg(last)));
        QVERIFY(!panel.resume());
        QVERIFY(panel.statusText().contains(QLatin1String("saved to")));
    }
};

QTEST_MAIN(TestGateTrainPanel)
#include "tst_gatetrainpanel.moc"
