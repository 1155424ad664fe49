// The pruning page on the bundled demo model with the real engine: a search grows the chart and
// the layer map step by step and lands in the experiment file; a cancel answers at once and keeps
// the steps; errors appear inline; experiments reopen, compare and export; what-if answers.
#include "charts/tracechart.h"
#include "jobrunner.h"
#include "jobspanel.h"
#include "layermap.h"
#include "messagebanner.h"
#include "pruneform.h"
#include "pruningpage.h"
#include "runcomparemodel.h"
#include "runlistmodel.h"
#include "store/experimentfile.h"
#include "store/stepjson.h"
#include "testdata.h"
#include "tracetablemodel.h"
#include "whatifcontroller.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>

using namespace blockscope;
using namespace blockscope::views;

class TestPruningPage : public QObject
{
    Q_OBJECT
private:
    QString m_demo;
    QString m_text;
    QString m_dir;
    QString m_twoRuns; // an experiment with a SLEB and a FinerCut run, made once

    void prepare(PruningPage &page, PruneMethod method, double target, const QString &file)
    {
        page.form()->setCalibrationText(m_text);
        page.setModel(m_demo, 4);
        page.form()->setMethod(method);
        page.form()->setTarget(target);
        page.form()->setCalibrationWindows(4);
        page.form()->setEvaluationWindows(4);
        page.form()->setExperimentPath(file);
    }

    // Runs what the form shows to its end; the status it ended with, or empty on a hang.
    static QString runToEnd(PruningPage &page, int timeoutMs = 180000)
    {
        QSignalSpy ended(&page, &PruningPage::runEnded);
        page.run();
        if (!ended.wait(timeoutMs))
            return {};
        return ended.at(0).at(1).toString();
    }

    // Waits for the jobs that follow a run (reading the experiment back, what-if set-up).
    static bool settle(JobRunner &runner)
    {
        return QTest::qWaitFor([&] { return runner.runningCount() == 0; }, 60000);
    }

    QString twoRunExperiment()
    {
        if (!m_twoRuns.isEmpty())
            return m_twoRuns;
        const QString file = m_dir + QStringLiteral("/two-runs.h5");
        QFile::remove(file);
        JobRunner runner;
        PruningPage page(&runner);
        prepare(page, PruneMethod::Sleb, 1, file);
        if (runToEnd(page) != QLatin1String("complete"))
            return {};
        prepare(page, PruneMethod::FinerCut, 2, file);
        if (runToEnd(page) != QLatin1String("complete"))
            return {};
        if (!settle(runner))
            return {};
        m_twoRuns = file;
        return file;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        m_demo = test::sourceDir() + QStringLiteral("/resources/demo-model");
        m_text = test::sharedFile(QStringLiteral("text/tinyshakespeare.txt"));
        m_dir = test::freshTempDir(QStringLiteral("tst_pruningpage"));
        qRegisterMetaType<blockscope::UnitKind>();
    }

    // "× 2 processes" beside Device: the search runs as two ranks of blockscope-cli, the jobs
    // panel's stage shows each rank's progress, the page grows step by step as it does in one
    // process, and the file holds the trace one process gives.
    void searchAsTwoProcesses()
    {
        const QString one = m_dir + QStringLiteral("/one-process.h5");
        const QString two = m_dir + QStringLiteral("/two-processes.h5");
        QFile::remove(one);
        QFile::remove(two);
        JobRunner runner;
        PruningPage page(&runner);
        page.setCli(QStringLiteral(BLOCKSCOPE_CLI));
        prepare(page, PruneMethod::Sleb, 2, one);
        QCOMPARE(runToEnd(page), QStringLiteral("complete"));
        QVERIFY(settle(runner));

        prepare(page, PruneMethod::Sleb, 2, two);
        page.form()->setProcesses(2);
        QSignalSpy stages(&runner, &JobRunner::jobStage);
        // BLOCKSCOPE_SCREENSHOTS=DIR: the jobs panel as the ranks report, to look at.
        JobsPanel panel;
        panel.setRunner(&runner);
        panel.resize(520, 260);
        bool shot = qEnvironmentVariableIsEmpty("BLOCKSCOPE_SCREENSHOTS");
        connect(&runner, &JobRunner::jobStage, &panel, [&](JobId, const QString &stage) {
            if (!shot && stage.contains(QStringLiteral("rank 1 \u00b7")) && stage.contains(QStringLiteral("step"))) {
                shot = true;
                panel.grab().save(qEnvironmentVariable("BLOCKSCOPE_SCREENSHOTS") + QStringLiteral("/jobs-ranks.png"));
            }
        });
        QSignalSpy stepsShown(&page, &PruningPage::stepShown);
        QCOMPARE(runToEnd(page), QStringLiteral("complete"));
        QVERIFY(settle(runner));
        bool rank0 = false, rank1 = false;
        for (const QList<QVariant> &s : stages) {
            rank0 = rank0 || s.at(1).toString().contains(QStringLiteral("rank 0 \u00b7"));
            rank1 = rank1 || s.at(1).toString().contains(QStringLiteral("rank 1 \u00b7"));
        }
        QVERIFY(rank0 && rank1);
        QVERIFY(stepsShown.size() >= 2); // live, a step at a time

        const auto steps = [](const QString &file) {
            std::vector<nlohmann::json> out;
            const Experiment e = ExperimentFile::read(file.toStdString());
            for (const TraceStep &s : e.runs.back().steps) {
                nlohmann::json j = stepjson::step(s, true);
                j.erase("seconds");
                out.push_back(j);
            }
            return out;
        };
        // The same choices; the scores agree to rounding: the ranks run one thread each and the app
        // its default, and LibTorch's matrix products add in an order that depends on the threads.
        const auto a = steps(one), b = steps(two);
        QCOMPARE(b.size(), std::size_t(2));
        double worst = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            QCOMPARE(QString::fromStdString(b[i]["chosen"].dump()), QString::fromStdString(a[i]["chosen"].dump()));
            QCOMPARE(QString::fromStdString(b[i]["mask"].dump()), QString::fromStdString(a[i]["mask"].dump()));
            for (const char *field : {"chosen_score", "perplexity", "kl_to_dense"}) {
                const double x = stepjson::readNumber(a[i][field], field), y = stepjson::readNumber(b[i][field], field);
                worst = std::max(worst, std::abs(x - y) / std::max(1e-300, std::abs(x)));
            }
            for (std::size_t c = 0; c < a[i]["candidates"].size(); ++c) {
                const double x = stepjson::readNumber(a[i]["candidates"][c]["score"], "score");
                const double y = stepjson::readNumber(b[i]["candidates"][c]["score"], "score");
                worst = std::max(worst, std::abs(x - y) / std::max(1e-300, std::abs(x)));
            }
        }
        qInfo("largest relative difference between one and two processes: %g", worst);
        QVERIFY(worst < 1e-6);
        QCOMPARE(QString::fromStdString(ExperimentFile::read(two.toStdString()).runs.back().info.status),
            QStringLiteral("complete"));
    }

    void startsReadyForAModel()
    {
        JobRunner runner;
        PruningPage page(&runner);
        QVERIFY(!page.runButton()->isEnabled()); // no model
        QVERIFY(!page.cancelButton()->isEnabled());
        QVERIFY(page.form()->experimentPath().endsWith(QStringLiteral(".h5")));
        QVERIFY(page.form()->experimentPath().contains(QStringLiteral("/experiments/")));
        page.setModel(m_demo, 4);
        QVERIFY(page.runButton()->isEnabled());
        QCOMPARE(page.layerMap()->data().layers, 4);
    }

    void missingTextSaysWhat()
    {
        JobRunner runner;
        PruningPage page(&runner);
        page.setModel(m_demo, 4);
        page.form()->setCalibrationText(QString());
        QSignalSpy started(&page, &PruningPage::runStarted);
        page.run();
        QCOMPARE(started.count(), 0);
        QVERIFY(!page.banner()->isHidden());
        QVERIFY2(page.banner()->text().contains(QStringLiteral("Choose a calibration text")),
            qPrintable(page.banner()->text()));
        page.form()->setCalibrationText(QStringLiteral("/no/such/text.txt"));
        page.run();
        QVERIFY(page.banner()->text().contains(QStringLiteral("/no/such/text.txt")));
        QCOMPARE(page.runCount(), 0);
        QVERIFY(settle(runner));
    }

    void slebGrowsChartAndMapLive()
    {
        if (m_text.isEmpty())
            QSKIP("tinyshakespeare.txt not found (set BLOCKSCOPE_SHARED_DATA)");
        JobRunner runner;
        PruningPage page(&runner);
        page.resize(1400, 900);
        page.show();
        const QString file = m_dir + QStringLiteral("/sleb.h5");
        QFile::remove(file);
        prepare(page, PruneMethod::Sleb, 1, file);
        QSignalSpy steps(&page, &PruningPage::stepShown);
        QSignalSpy ended(&page, &PruningPage::runEnded);
        // When the first step arrives the run already has its id and dense point (announced
        // by the engine before step 0), so the chart starts at the dense model.
        int pointsAtFirstStep = -1;
        QString nameAtFirstStep;
        connect(&page, &PruningPage::stepShown, &page, [&] {
            if (pointsAtFirstStep < 0) {
                pointsAtFirstStep = page.chart()->pointCount(page.chartRun(0));
                nameAtFirstStep = page.chart()->runName(page.chartRun(0));
            }
        });
        // Candidate by candidate, before the step ends, the layer map shows the step in flight: the
        // scores so far and a title that says so.
        QList<int> scoredCells;
        QStringList titles;
        connect(&page, &PruningPage::candidateShown, &page, [&](int, int step, int scored) {
            QCOMPARE(step, 0);
            const LayerMapData &d = page.layerMap()->data();
            int cells = 0;
            for (int l = 0; l < d.layers; ++l)
                cells += !std::isnan(d.attnScore[static_cast<std::size_t>(l)]);
            QCOMPARE(cells, scored);
            scoredCells << cells;
            titles << d.title;
        });
        QTest::mouseClick(page.runButton(), Qt::LeftButton);
        QVERIFY(page.isRunning());
        QVERIFY(page.cancelButton()->isEnabled());
        QCOMPARE(page.runCount(), 1);
        QVERIFY(ended.wait(180000));
        QVERIFY2(scoredCells.size() >= 2, qPrintable(QString::number(scoredCells.size())));
        QCOMPARE(scoredCells.front(), 1);
        QVERIFY2(titles.front().contains(QStringLiteral("step 1 in progress, 1 scored")), qPrintable(titles.front()));
        QCOMPARE(pointsAtFirstStep, 2);
        QCOMPARE(nameAtFirstStep, QStringLiteral("run-0001 sleb"));
        QCOMPARE(ended.at(0).at(1).toString(), QStringLiteral("complete"));
        QCOMPARE(steps.count(), 1);
        QVERIFY(!page.isRunning());

        TraceTableModel *trace = page.traceModel(0);
        QCOMPARE(trace->steps().size(), std::size_t(1));
        const TraceStep &step = trace->steps().front();
        QCOMPARE(step.chosen.size(), std::size_t(1));
        QCOMPARE(step.chosen.front().kind, UnitKind::Block);
        QVERIFY(!std::isnan(step.perplexity));
        // The chart: the dense point and the step.
        QVERIFY(trace->hasDenseRow());
        QCOMPARE(page.chart()->pointCount(page.chartRun(0)), 2);
        QCOMPARE(page.chart()->runName(page.chartRun(0)), QStringLiteral("run-0001 sleb"));
        // The layer map: the removed block hatched and numbered 1, the others scored.
        const LayerMapData &map = page.layerMap()->data();
        const int removed = step.chosen.front().layer;
        QVERIFY(map.removed.blockSkipped(removed));
        QCOMPARE(map.attnOrder[static_cast<std::size_t>(removed)], 1);
        QVERIFY(map.hasScores());
        QCOMPARE(page.runList()->run(0).status, QStringLiteral("complete"));
        QVERIFY2(page.statusText().contains(QStringLiteral("saved in %1 as run-0001").arg(file)),
            qPrintable(page.statusText()));
        QVERIFY(QFile::exists(file));
        QVERIFY(settle(runner));
        QCOMPARE(page.runCount(), 1); // reading the file back added nothing
    }

    void finercutAndSlebCompare()
    {
        if (m_text.isEmpty())
            QSKIP("tinyshakespeare.txt not found (set BLOCKSCOPE_SHARED_DATA)");
        const QString file = twoRunExperiment();
        QVERIFY(!file.isEmpty());
        JobRunner runner;
        PruningPage page(&runner);
        page.resize(1500, 950);
        page.show();
        page.setModel(m_demo, 4);
        QSignalSpy loaded(&page, &PruningPage::experimentLoaded);
        page.openExperiment(file);
        QVERIFY(loaded.wait(30000));
        QCOMPARE(loaded.at(0).at(1).toInt(), 2);
        QCOMPARE(page.runCount(), 2);
        const int sleb = page.rowForRunId(QStringLiteral("run-0001"));
        const int finercut = page.rowForRunId(QStringLiteral("run-0002"));
        QVERIFY(sleb >= 0 && finercut >= 0);
        QCOMPARE(page.runList()->run(finercut).method, QStringLiteral("finercut"));
        QCOMPARE(page.traceModel(finercut)->steps().size(), std::size_t(2));
        QCOMPARE(page.chart()->runCount(), 2);
        QCOMPARE(page.chart()->pointCount(page.chartRun(finercut)), 3);
        QCOMPARE(page.form()->experimentPath(), file); // new runs go to the open experiment

        page.selectRuns({sleb, finercut});
        QVERIFY(page.isComparing());
        QCOMPARE(page.compareModel()->columnCount(), 2);
        const int removedRow = page.compareModel()->rowNamed(QStringLiteral("Removed, in order"));
        QVERIFY(removedRow >= 0);
        QVERIFY(page.compareModel()->index(removedRow, 0).data().toString().startsWith(QStringLiteral("block ")));
        QCOMPARE(page.compareMap(0)->data().removed.skippedUnits(), 2);
        QCOMPARE(page.compareMap(1)->data().removed.skippedUnits(), 2);
        const QString shots = qEnvironmentVariable("BLOCKSCOPE_SCREENSHOT_DIR");
        if (!shots.isEmpty()) {
            QTest::qWait(200);
            QVERIFY(page.grab().save(shots + QStringLiteral("/pruning-compare-page.png")));
        }
        page.selectRuns({finercut});
        QVERIFY(!page.isComparing());
        QCOMPARE(page.layerMap()->data().removed.skippedUnits(), 2);
        if (!shots.isEmpty()) {
            QTest::qWait(200);
            QVERIFY(page.grab().save(shots + QStringLiteral("/pruning-page.png")));
        }
    }

    void exports_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("contains");
        QTest::newRow("chart png") << "chart.png" << QByteArray("PNG");
        QTest::newRow("chart svg") << "chart.svg" << QByteArray("<svg");
        QTest::newRow("chart pdf") << "chart.pdf" << QByteArray("%PDF");
        QTest::newRow("trace csv") << "trace.csv" << QByteArray("attn");
        QTest::newRow("trace json") << "trace.json" << QByteArray("\"steps\"");
    }
    void exports()
    {
        QFETCH(QString, name);
        QFETCH(QByteArray, contains);
        if (m_text.isEmpty())
            QSKIP("tinyshakespeare.txt not found (set BLOCKSCOPE_SHARED_DATA)");
        const QString file = twoRunExperiment();
        QVERIFY(!file.isEmpty());
        JobRunner runner;
        PruningPage page(&runner);
        QSignalSpy loaded(&page, &PruningPage::experimentLoaded);
        page.openExperiment(file);
        QVERIFY(loaded.wait(30000));
        const QString path = m_dir + QLatin1Char('/') + name;
        QFile::remove(path);
        QString error;
        const bool trace = name.startsWith(QLatin1String("trace"));
        const bool ok = trace ? page.exportTrace(page.rowForRunId(QStringLiteral("run-0002")), path, &error)
                              : page.exportChart(path, &error);
        QVERIFY2(ok, qPrintable(error));
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        QVERIFY(bytes.size() > 100);
        QVERIFY2(bytes.left(4096).contains(contains), bytes.left(200).constData());
    }

    // File > Export Model: the selected run's last step, or the what-if configuration the user
    // toggled, written as a Hugging Face folder with its record; a refusal says why.
    void exportsTheModel()
    {
        if (m_text.isEmpty())
            QSKIP("tinyshakespeare.txt not found (set BLOCKSCOPE_SHARED_DATA)");
        const QString file = twoRunExperiment();
        QVERIFY(!file.isEmpty());
        JobRunner runner;
        PruningPage page(&runner);
        QString error;
        QVERIFY(!page.exportModel(m_dir + QStringLiteral("/none"), false, &error));
        QCOMPARE(error, QStringLiteral("Select a run to export"));
        QSignalSpy loaded(&page, &PruningPage::experimentLoaded);
        page.openExperiment(file);
        QVERIFY(loaded.wait(30000));
        page.form()->setCalibrationText(m_text);
        page.setModel(m_demo, 4);
        page.selectRuns({page.rowForRunId(QStringLiteral("run-0002"))});
        QVERIFY2(page.exportModelDescription().startsWith(QStringLiteral("run-0002 (finercut), step 1: ")),
            qPrintable(page.exportModelDescription()));

        const auto exportTo = [&](const QString &name, bool force) -> QJsonObject {
            const QString out = m_dir + QLatin1Char('/') + name;
            QSignalSpy done(&page, &PruningPage::modelExported);
            QSignalSpy failed(&page, &PruningPage::modelExportFailed);
            QString why;
            if (!page.exportModel(out, force, &why)) {
                qWarning("%s", qPrintable(why));
                return {};
            }
            if (!QTest::qWaitFor([&] { return done.count() + failed.count() > 0; }, 60000) || failed.count())
                return {};
            QFile f(out + QStringLiteral("/blockscope.json"));
            if (!f.open(QIODevice::ReadOnly))
                return {};
            return QJsonDocument::fromJson(f.readAll()).object();
        };
        const QJsonObject step = exportTo(QStringLiteral("model-step"), false);
        const QJsonObject source = step.value(QStringLiteral("source")).toObject();
        QCOMPARE(source.value(QStringLiteral("run")).toObject().value(QStringLiteral("id")).toString(),
            QStringLiteral("run-0002"));
        QCOMPARE(source.value(QStringLiteral("step")).toObject().value(QStringLiteral("index")).toInt(), 1);
        QVERIFY(page.statusText().startsWith(QStringLiteral("Exported into")));

        // A what-if configuration: block 2 toggled off in the layer map.
        QVERIFY(QTest::qWaitFor([&] { return page.whatIf()->isReady(); }, 60000));
        page.whatIf()->toggle(UnitKind::Block, 2);
        QVERIFY(page.exportModelDescription().contains(QStringLiteral("what-if: block 2")));
        const QJsonObject whatIf = exportTo(QStringLiteral("model-whatif"), false);
        QVERIFY(whatIf.value(QStringLiteral("source")).toObject().value(QStringLiteral("what_if")).toBool());
        // For looking at the result: the banner with the export's notes.
        if (const QString shots = qEnvironmentVariable("BLOCKSCOPE_SCREENSHOT_DIR"); !shots.isEmpty()) {
            page.resize(1400, 900);
            page.show();
            QTest::qWait(300);
            QVERIFY(page.grab().save(shots + QStringLiteral("/pruning-export-model.png")));
            page.hide();
        }
        QCOMPARE(
            whatIf.value(QStringLiteral("configuration")).toObject().value(QStringLiteral("removed_blocks")).toArray(),
            QJsonArray{2});
        // Over the first export without force: refused, shown in the banner, the folder kept.
        QSignalSpy failed(&page, &PruningPage::modelExportFailed);
        QVERIFY(page.exportModel(m_dir + QStringLiteral("/model-step"), false));
        QVERIFY(failed.wait(30000));
        QVERIFY2(failed.at(0).at(1).toString().contains(QStringLiteral("not empty")),
            qPrintable(failed.at(0).at(1).toString()));
        QVERIFY(page.banner()->isVisibleTo(&page));
        QVERIFY(QFile::exists(m_dir + QStringLiteral("/model-step/config.json")));
        QVERIFY(settle(runner));
    }

    // File > Export Report: the open experiment as an HTML or PDF document; a bad name says why.
    void exportsTheReport()
    {
        if (m_text.isEmpty())
            QSKIP("tinyshakespeare.txt not found (set BLOCKSCOPE_SHARED_DATA)");
        const QString file = twoRunExperiment();
        QVERIFY(!file.isEmpty());
        JobRunner runner;
        PruningPage page(&runner);
        QString error;
        QVERIFY(!page.exportReport(m_dir + QStringLiteral("/none.html"), &error));
        QSignalSpy loaded(&page, &PruningPage::experimentLoaded);
        page.openExperiment(file);
        QVERIFY(loaded.wait(30000));
        QCOMPARE(page.reportSource(), file);
        for (const QString &name : {QStringLiteral("report.html"), QStringLiteral("report.pdf")}) {
            const QString out = m_dir + QLatin1Char('/') + name;
            QSignalSpy done(&page, &PruningPage::reportExported);
            QVERIFY(page.exportReport(out, &error));
            QVERIFY(done.wait(30000));
            QFile f(out);
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray bytes = f.readAll();
            QVERIFY2(name.endsWith(QLatin1String(".pdf")) ? bytes.startsWith("%PDF-")
                                                          : bytes.contains("<h2 id=\"run-0002\">"),
                qPrintable(name));
        }
        QSignalSpy failed(&page, &PruningPage::reportExportFailed);
        QVERIFY(page.exportReport(m_dir + QStringLiteral("/report.txt"), &error));
        QVERIFY(failed.wait(30000));
        QVERIFY2(failed.at(0).at(1).toString().contains(QStringLiteral(".html or .pdf")),
            qPrintable(failed.at(0).at(1).toString()));
        QVERIFY(settle(runner));
    }

    void exportRefusesUnknownFormats()
    {
        JobRunner runner;
        PruningPage page(&runner);
        QString error;
        QVERIFY(!page.exportChart(m_dir + QStringLiteral("/chart.bmp"), &error));
        QVERIFY(error.contains(QStringLiteral("bmp")));
        QVERIFY(!page.exportTrace(0, m_dir + QStringLiteral("/t.csv"), &error)); // no runs
    }

    void cancelKeepsStepsAndAnswersQuickly()
    {
        if (m_text.isEmpty())
            QSKIP("tinyshakespeare.txt not found (set BLOCKSCOPE_SHARED_DATA)");
        JobRunner runner;
        PruningPage page(&runner);
        page.show();
        const QString file = m_dir + QStringLiteral("/cancel.h5");
        QFile::remove(file);
        prepare(page, PruneMethod::EvoPress, 1, file);
        page.form()->setCalibrationWindows(0); // the method's budget
        page.form()->setEvoPress(16, 100000); // far more generations than the test will wait for
        QSignalSpy steps(&page, &PruningPage::stepShown);
        QSignalSpy ended(&page, &PruningPage::runEnded);
        page.run();
        QVERIFY(page.isRunning());
        QVERIFY(steps.wait(180000));
        QTest::qWait(300); // somewhere inside the next generation
        const std::size_t before = page.traceModel(0)->steps().size();
        QElapsedTimer clock;
        clock.start();
        QTest::mouseClick(page.cancelButton(), Qt::LeftButton);
        QVERIFY(ended.wait(10000)); // the guard against a hang; the answer is measured below
        qInfo("cancel answered in %lld ms", clock.elapsed());
        QCOMPARE(ended.at(0).at(1).toString(), QStringLiteral("cancelled"));
        QVERIFY(!page.isRunning());
        const std::size_t after = page.traceModel(0)->steps().size();
        QVERIFY(after >= before);
        QVERIFY2(page.statusText() == QStringLiteral("Cancelled after %1 steps; saved in %2").arg(after).arg(file),
            qPrintable(page.statusText()));
        QCOMPARE(page.runList()->run(0).status, QStringLiteral("cancelled"));
        QVERIFY(page.runButton()->isEnabled());
        // The file has the run and its steps; reading it back names the run.
        QVERIFY(settle(runner));
        QCOMPARE(page.runCount(), 1);
        QCOMPARE(page.runList()->run(0).id, QStringLiteral("run-0001"));
        QCOMPARE(page.traceModel(0)->steps().size(), after);
    }

    void engineErrorShownInline()
    {
        if (m_text.isEmpty())
            QSKIP("tinyshakespeare.txt not found (set BLOCKSCOPE_SHARED_DATA)");
        JobRunner runner;
        PruningPage page(&runner);
        prepare(page, PruneMethod::Sleb, 1, m_dir + QStringLiteral("/error.h5"));
        page.setModel(QStringLiteral("/no/such/model"), 4);
        const QString status = runToEnd(page, 60000);
        QCOMPARE(status, QStringLiteral("failed"));
        QVERIFY(!page.banner()->isHidden());
        QVERIFY2(page.banner()->text().contains(QStringLiteral("/no/such/model")), qPrintable(page.banner()->text()));
        QCOMPARE(page.runList()->run(0).status, QStringLiteral("failed"));
        QVERIFY(page.runButton()->isEnabled());
        QVERIFY(settle(runner));
    }

    void badExperimentShownInline()
    {
        JobRunner runner;
        PruningPage page(&runner);
        const QString path = m_dir + QStringLiteral("/not-an-experiment.h5");
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("this is not HDF5");
        f.close();
        QSignalSpy failed(&page, &PruningPage::experimentFailed);
        page.openExperiment(path);
        QVERIFY(failed.wait(30000));
        QVERIFY(!page.banner()->isHidden());
        QVERIFY(page.banner()->text().contains(QStringLiteral("not-an-experiment.h5")));
        QCOMPARE(page.runCount(), 0);
    }

    void whatIfFromTheLayerMap()
    {
        if (m_text.isEmpty())
            QSKIP("tinyshakespeare.txt not found (set BLOCKSCOPE_SHARED_DATA)");
        JobRunner runner;
        PruningPage page(&runner);
        page.resize(1400, 900);
        page.show();
        page.form()->setCalibrationText(m_text);
        page.setModel(m_demo, 4);
        QSignalSpy evaluated(page.whatIf(), &WhatIfController::evaluated);
        LayerMap *map = page.layerMap();
        QVERIFY(QTest::qWaitForWindowExposed(&page));
        QTest::mouseClick(map, Qt::LeftButton, {}, map->mapGeometry().cellRect(1, 1).center());
        QVERIFY(page.whatIf()->mask().skipMlp[1]);
        QVERIFY(map->whatIfMask().skipMlp[1]);
        QVERIFY(evaluated.wait(60000));
        const WhatIfResult r = *page.whatIf()->lastResult();
        QVERIFY(r.perplexity != r.densePerplexity);
        QVERIFY2(
            page.whatIfLabel()->text().endsWith(QStringLiteral("mask: mlp 1")), qPrintable(page.whatIfLabel()->text()));
        QVERIFY(settle(runner));
    }
};

QTEST_MAIN(TestPruningPage)
#include "tst_pruningpage.moc"
