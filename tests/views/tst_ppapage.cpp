// The PPA page on real experiment files: runs and sweeps with their PPA points, the charts and the
// table of the selected run, the device picker, exports; and Compute PPA through the job runner on
// the bundled demo model, writing measured and modelled points into the file (and a cancel that
// leaves the file as it was).
#include "blocksharemodel.h"
#include "charts/blockshareschart.h"
#include "charts/ppachart.h"
#include "jobrunner.h"
#include "messagebanner.h"
#include "ppapage.h"
#include "ppapointmodel.h"
#include "pparunlistmodel.h"
#include "ppatestpoints.h"
#include "store/experimentfile.h"
#include "synthetictrace.h"
#include "testdata.h"

#include <QComboBox>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableView>
#include <QTest>

using namespace blockscope;
using namespace blockscope::views;

class TestPpaPage : public QObject
{
    Q_OBJECT
private:
    QString m_demo;
    QString m_dir;

    // A SLEB run on the demo model (blocks 2, 1, 0 removed in turn); with PPA points when asked,
    // and a sparsity sweep of two settings.
    QString makeExperiment(const QString &name, bool withPpa, bool withSweep, int steps = 3)
    {
        const std::string path = (m_dir + QLatin1Char('/') + name).toStdString();
        QFile::remove(QString::fromStdString(path));
        RunInfo info;
        info.label = "demo sleb";
        info.options = PruneOptions::tinyTsDefaults(PruneMethod::Sleb);
        info.layers = 4;
        info.modelPath = m_demo.toStdString();
        info.densePerplexity = 10.0;
        info.status = "complete";
        const std::string id = ExperimentFile::addRun(path, info);
        const std::vector<Unit> order{{UnitKind::Block, 2}, {UnitKind::Block, 1}, {UnitKind::Block, 0}};
        const auto trace
            = test::greedySteps(std::vector<Unit>(order.begin(), order.begin() + steps), {11.0, 13.0, 20.0}, 4);
        for (const TraceStep &s : trace)
            ExperimentFile::appendStep(path, id, s);
        if (withPpa)
            ExperimentFile::setPpa(path, id, test::syntheticRun(true, true));
        if (withSweep) {
            SweepRecord sweep;
            sweep.label = "gates";
            sweep.masks = "gates";
            sweep.protocol = "tiny-ts: 4 windows";
            sweep.blockSize = 16;
            sweep.densePerplexity = 10.0;
            for (double density : {1.0, 0.5, 0.25}) {
                SweepPoint p;
                p.rule = "density " + std::to_string(density);
                p.ruleKind = "density";
                p.ruleValue = density;
                p.perplexity = 10.0 + (1.0 - density) * 8;
                p.tileDensity = density;
                p.pairDensity = density;
                p.ppa = test::syntheticPoint({"", -1, {}, ppa::NaN, 1000.0 / density, 4.0 * density}, false, true);
                p.ppa.attentionDensity = density;
                sweep.points.push_back(p);
            }
            ExperimentFile::addSweep(path, sweep);
        }
        return QString::fromStdString(path);
    }

    static bool open(PpaPage &page, const QString &file)
    {
        QSignalSpy loaded(&page, &PpaPage::experimentLoaded);
        page.openExperiment(file);
        return loaded.wait(30000);
    }

    static QString readText(const QString &path)
    {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_demo = test::sourceDir() + QStringLiteral("/resources/demo-model");
        m_dir = test::freshTempDir(QStringLiteral("tst_ppapage"));
    }

    void showsRunsAndSweeps()
    {
        JobRunner runner;
        PpaPage page(&runner);
        page.resize(1500, 900);
        page.show();
        QVERIFY(!page.computeButton()->isEnabled()); // nothing selected
        const QString file = makeExperiment(QStringLiteral("runs.h5"), true, true);
        QVERIFY(open(page, file));
        QCOMPARE(page.experimentPath(), file);
        QCOMPARE(page.runCount(), 2);
        QCOMPARE(page.runId(0), QStringLiteral("run-0001"));
        QCOMPARE(page.runId(1), QStringLiteral("sweep-0001"));
        QCOMPARE(page.pointModel(0)->rowCount(), 4);
        QCOMPARE(page.pointModel(1)->rowCount(), 3);
        // A sweep's points take their quality and label from the sweep's own columns.
        QCOMPARE(page.pointModel(1)->point(0).perplexity, 10.0);
        QCOMPARE(page.pointModel(1)->point(2).label, std::string("density 0.250000"));
        QCOMPARE(page.chart()->runCount(), 2);
        QCOMPARE(page.runList()->entry(0).measuredOn, QStringLiteral("cpu (test CPU, 1 thread)"));

        // The last run with points is selected: the sweep; Compute PPA is for pruning runs.
        QCOMPARE(page.currentRun(), 1);
        QVERIFY(!page.computeButton()->isEnabled());
        page.selectRun(0);
        QVERIFY(page.computeButton()->isEnabled());
        QCOMPARE(page.pointTable()->model(), page.pointModel(0));
        QCOMPARE(page.currentPoint(), 3); // the most pruned point
        QVERIFY(page.pointTable()
                    ->model()
                    ->headerData(PpaPointModel::PrefillMeasured, Qt::Horizontal)
                    .toString()
                    .contains(QStringLiteral("measured")));

        // Its units, with the removed ones marked, in the block chart.
        QCOMPARE(page.blockModel()->rowCount(), 10);
        QTRY_COMPARE(page.blockChart()->categories().size(), 10);
        QCOMPARE(page.blockChart()->categories().filter(QStringLiteral("(removed)")).size(), 6);
        page.selectPoint(0);
        QCOMPARE(page.blockModel()->pointLabel(), QStringLiteral("dense"));
        QTRY_COMPARE(page.blockChart()->categories().filter(QStringLiteral("(removed)")).size(), 0);
        page.shareBox()->setCurrentIndex(3);
        QCOMPARE(page.blockModel()->metric(), BlockShareMetric::Time);

        // The dense model of the run is marked; the sweep's dense setting too (modelled only).
        QTRY_COMPARE(page.chart()->densePoints().size(), 1);
        QCOMPARE(page.chart()->densePoints().front(), QPointF(1000, 10));
        page.shownBox()->setCurrentIndex(2); // modelled only
        QTRY_COMPARE(page.chart()->densePoints().size(), 2);
        page.shownBox()->setCurrentIndex(0);

        // Unchecking the sweep takes it off the chart.
        page.runList()->setShown(1, false);
        QCOMPARE(page.chart()->runCount(), 1);
        // Reading the file again keeps the check boxes and the selected run.
        QVERIFY(open(page, file));
        QCOMPARE(page.chart()->runCount(), 1);
        QVERIFY(!page.runList()->entry(1).shown);
        QCOMPARE(page.currentRun(), 0);
    }

    void devicePickerAndAxes()
    {
        JobRunner runner;
        PpaPage page(&runner);
        QVERIFY(open(page, makeExperiment(QStringLiteral("devices.h5"), true, false)));
        QComboBox *device = page.deviceBox();
        QCOMPARE(device->count(), 2);
        QCOMPARE(device->itemText(0), QStringLiteral("this machine (calibrated)"));
        QCOMPARE(device->itemText(1), QStringLiteral("H100 SXM"));
        device->setCurrentIndex(1);
        QCOMPARE(page.chart()->modelledDevice(), QStringLiteral("H100 SXM"));
        QCOMPARE(page.pointModel(0)->modelledDevice(), QStringLiteral("H100 SXM"));
        QVERIFY(page.chart()->xAxisTitle().contains(QStringLiteral("modelled (roofline, H100 SXM)")));
        page.axisBox()->setCurrentIndex(page.axisBox()->findData(int(PpaAxis::DecodeLatency)));
        QCOMPARE(page.chart()->axis(), PpaAxis::DecodeLatency);
        QVERIFY(page.chart()->xAxisTitle().startsWith(QStringLiteral("Decode latency (ms/token)")));
        page.qualityBox()->setCurrentIndex(1);
        QCOMPARE(page.chart()->yAxisTitle(), QStringLiteral("KL to dense (measured)"));
    }

    void exportsChartsAndData()
    {
        JobRunner runner;
        PpaPage page(&runner);
        QVERIFY(open(page, makeExperiment(QStringLiteral("export.h5"), true, true)));
        page.selectRun(0);
        QString error;
        for (const char *suffix : {"png", "svg", "pdf"}) {
            const QString chart = m_dir + QStringLiteral("/ppa.") + QLatin1String(suffix);
            QVERIFY2(page.exportChart(chart, &error), qPrintable(error));
            QVERIFY(QFileInfo(chart).size() > 1000);
            const QString blocks = m_dir + QStringLiteral("/blocks.") + QLatin1String(suffix);
            QVERIFY2(page.exportBlockChart(blocks, &error), qPrintable(error));
            QVERIFY(QFileInfo(blocks).size() > 500);
        }
        const QString csv = m_dir + QStringLiteral("/points.csv");
        QVERIFY2(page.exportPoints(csv, &error), qPrintable(error));
        const QStringList lines = readText(csv).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 1 + 4 + 3); // header, the run's points, the sweep's
        QVERIFY(lines[0].contains(QStringLiteral("prefill_tokens_per_s_measured")));
        QVERIFY(lines[0].contains(QStringLiteral("prefill_tokens_per_s_modelled")));
        QVERIFY(lines[1].startsWith(QStringLiteral("run-0001,run-0001 sleb \u00b7 demo sleb,dense,-1,dense,1,10,0,")));
        QVERIFY(lines[7].startsWith(QStringLiteral("sweep-0001,sweep-0001 gates,density 0.250000,")));

        const QString json = m_dir + QStringLiteral("/points.json");
        QVERIFY2(page.exportPoints(json, &error), qPrintable(error));
        const QJsonObject root = QJsonDocument::fromJson(readText(json).toUtf8()).object();
        QCOMPARE(root.value(QStringLiteral("experiment")).toString(), page.experimentPath());
        QCOMPARE(root.value(QStringLiteral("runs")).toArray().size(), 2);
        QCOMPARE(root.value(QStringLiteral("modelled_on")).toString(), QStringLiteral("this machine (calibrated)"));

        const QString shares = m_dir + QStringLiteral("/shares.csv");
        QVERIFY2(page.exportBlockShares(shares, &error), qPrintable(error));
        QCOMPARE(readText(shares).count(QLatin1Char('\n')), 11);
        QVERIFY(!page.exportPoints(m_dir + QStringLiteral("/points.xlsx"), &error));
    }

    void badFileSaysWhy()
    {
        JobRunner runner;
        PpaPage page(&runner);
        const QString bad = m_dir + QStringLiteral("/not-an-experiment.h5");
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("not hdf5");
        f.close();
        QSignalSpy failed(&page, &PpaPage::experimentFailed);
        page.openExperiment(bad);
        QVERIFY(failed.wait(30000));
        QVERIFY(!page.banner()->isHidden());
        QVERIFY2(
            page.banner()->text().contains(QStringLiteral("not-an-experiment.h5")), qPrintable(page.banner()->text()));
        QCOMPARE(page.runCount(), 0);
    }

    void runWithoutPointsInvitesACompute()
    {
        JobRunner runner;
        PpaPage page(&runner);
        QVERIFY(open(page, makeExperiment(QStringLiteral("bare.h5"), false, false)));
        QCOMPARE(page.runCount(), 1);
        QCOMPARE(page.pointModel(0)->rowCount(), 0);
        QCOMPARE(page.chart()->runCount(), 0);
        QVERIFY(page.statusText().contains(QStringLiteral("Compute PPA")));
        QVERIFY(page.computeButton()->isEnabled());
    }

    void computesPpaOnTheDemoModel()
    {
        JobRunner runner;
        PpaPage page(&runner);
        const QString file = makeExperiment(QStringLiteral("compute.h5"), false, false, 1);
        QVERIFY(open(page, file));
        page.selectRun(0);
        page.findChild<QSpinBox *>(QStringLiteral("ppaSeq"))->setValue(16);
        page.findChild<QSpinBox *>(QStringLiteral("ppaThreads"))->setValue(1);
        page.setPredictFor({QStringLiteral("H100 SXM")});
        QCOMPARE(page.predictFor(), QStringList({QStringLiteral("H100 SXM")}));
        QSignalSpy ended(&page, &PpaPage::computeEnded);
        QSignalSpy loaded(&page, &PpaPage::experimentLoaded);
        page.computePpa();
        QVERIFY(page.isComputing());
        QVERIFY(!page.computeButton()->isEnabled());
        QVERIFY(ended.wait(300000));
        QCOMPARE(ended.at(0).at(0).toString(), QStringLiteral("complete"));
        QVERIFY(loaded.wait(30000));

        // Dense and the one step, measured here and modelled for this machine and the H100.
        const Experiment e = ExperimentFile::read(file.toStdString());
        QCOMPARE(e.runs.front().ppa.size(), std::size_t(2));
        PpaPointModel *points = page.pointModel(0);
        QCOMPARE(points->rowCount(), 2);
        QVERIFY(points->point(0).measured.has_value());
        QCOMPARE(points->predictionDevices(), QStringList({QString(), QStringLiteral("H100 SXM")}));
        QVERIFY(points->value(0, PpaPointModel::PrefillMeasured) > 0);
        QVERIFY(points->value(0, PpaPointModel::PrefillModelled) > 0);
        QCOMPARE(points->value(0, PpaPointModel::Perplexity), 10.0);
        QCOMPARE(points->value(1, PpaPointModel::Perplexity), 11.0);
        QCOMPARE(page.deviceBox()->count(), 2);
        QTRY_COMPARE(page.chart()->seriesPoints(0, PpaChart::Source::Measured).size(), 2);
        QVERIFY(page.computeButton()->isEnabled());
        QVERIFY(page.statusText().contains(QStringLiteral("PPA written")));
    }

    void cancelKeepsTheFile()
    {
        JobRunner runner;
        PpaPage page(&runner);
        const QString file = makeExperiment(QStringLiteral("cancel.h5"), true, false);
        QVERIFY(open(page, file));
        page.selectRun(0);
        QSignalSpy ended(&page, &PpaPage::computeEnded);
        page.computePpa();
        QVERIFY(page.isComputing());
        page.cancelCompute();
        QVERIFY(ended.wait(30000));
        QCOMPARE(ended.at(0).at(0).toString(), QStringLiteral("cancelled"));
        QVERIFY(QTest::qWaitFor([&] { return runner.runningCount() == 0; }, 30000));
        QCOMPARE(ExperimentFile::read(file.toStdString()).runs.front().ppa.size(), std::size_t(4));
        QTRY_COMPARE(page.pointModel(0)->rowCount(), 4);
    }

    void missingCheckpointSaysSo()
    {
        JobRunner runner;
        PpaPage page(&runner);
        const QString file = makeExperiment(QStringLiteral("moved.h5"), true, false);
        // A run whose checkpoint has moved, and no model open in the window.
        RunInfo info;
        info.layers = 4;
        info.modelPath = "/no/such/model";
        info.options = PruneOptions::tinyTsDefaults(PruneMethod::Sleb);
        ExperimentFile::addRun(file.toStdString(), info);
        QVERIFY(open(page, file));
        page.selectRun(1);
        page.computePpa();
        QVERIFY(!page.isComputing());
        QVERIFY(!page.banner()->isHidden());
        QVERIFY(page.banner()->text().contains(QStringLiteral("/no/such/model")));
    }
};

QTEST_MAIN(TestPpaPage)
#include "tst_ppapage.moc"
