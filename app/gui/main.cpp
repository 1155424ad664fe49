#include "attentionpage.h"
#include "commandline.h"
#include "defaultmodel.h"
#include "gatetrainpanel.h"
#include "logsetup.h"
#include "mainwindow.h"
#include "ppapage.h"
#include "prune/pruneoptions.h"
#include "prune/unit.h"
#include "pruneform.h"
#include "pruningpage.h"
#include "screenshot.h"
#include "sparsitypanel.h"
#include "whatifcontroller.h"

#include <QApplication>
#include <QTabWidget>
#include <QTimer>

#include <memory>

#include <cstdio>

// Q_INIT_RESOURCE must be called outside any namespace; the icons live in the static GUI library.
static void initResources()
{
    Q_INIT_RESOURCE(blockscope);
}

namespace {
// --prune: once the model is open, fill the pruning form as a user would and press Run; a shot
// waits for the search to end.
void startSearchAtOpen(blockscope::gui::MainWindow &window, const blockscope::gui::GuiOptions::PruneStart &start,
    blockscope::gui::ScreenshotTaker *taker)
{
    using blockscope::views::PruningPage;
    PruningPage *page = window.pruningPage();
    if (taker) {
        taker->expect();
        if (start.shotAtCandidate > 0) {
            // Mid-step: the shot once that many candidates are scored, however many steps that spans.
            taker->setWhileJobsRun(true);
            auto scored = std::make_shared<int>(0);
            auto done = std::make_shared<bool>(false);
            QObject::connect(page, &PruningPage::candidateShown, taker,
                [taker, scored, done, want = start.shotAtCandidate](int, int, int) {
                    if (!*done && ++*scored == want) {
                        *done = true;
                        taker->arrived();
                    }
                });
            QObject::connect(page, &PruningPage::runEnded, taker, [taker, done](int, const QString &) {
                if (!*done) {
                    *done = true;
                    taker->arrived();
                }
            });
        } else {
            QObject::connect(page, &PruningPage::runEnded, taker, &blockscope::gui::ScreenshotTaker::arrived,
                Qt::SingleShotConnection);
        }
    }
    QObject::connect(
        &window, &blockscope::gui::MainWindow::modelOpened, page,
        [page, start, taker] {
            blockscope::views::PruneForm *form = page->form();
            form->setMethod(blockscope::pruneMethodFromName(start.method.toStdString()));
            if (start.target > 0)
                form->setTarget(start.target);
            if (start.calibrationWindows > 0)
                form->setCalibrationWindows(start.calibrationWindows);
            if (start.evaluationWindows > 0)
                form->setEvaluationWindows(start.evaluationWindows);
            if (!start.text.isEmpty())
                form->setCalibrationText(start.text);
            form->setEarlyStop(start.earlyStop);
            if (!start.out.isEmpty())
                form->setExperimentPath(start.out);
            page->run();
            if (!page->isRunning()) {
                std::fprintf(stderr, "blockscope: --prune: %s\n", qPrintable(page->statusText()));
                if (taker)
                    taker->arrived(); // nothing to wait for: the shot shows why
            }
        },
        Qt::SingleShotConnection);
}

// --compute-ppa: once the PPA page has read the experiment, compute PPA for its first run; a shot
// waits for the job to end and the page to read the file it wrote.
void computePpaAtLoad(blockscope::gui::MainWindow &window, blockscope::gui::ScreenshotTaker *taker)
{
    using blockscope::views::PpaPage;
    PpaPage *page = window.ppaPage();
    if (taker) {
        taker->expect();
        QObject::connect(
            page, &PpaPage::computeEnded, taker,
            [page, taker] {
                QObject::connect(page, &PpaPage::experimentLoaded, taker, &blockscope::gui::ScreenshotTaker::arrived,
                    Qt::SingleShotConnection);
                QObject::connect(page, &PpaPage::experimentFailed, taker, &blockscope::gui::ScreenshotTaker::arrived,
                    Qt::SingleShotConnection);
            },
            Qt::SingleShotConnection);
    }
    QObject::connect(
        page, &PpaPage::experimentLoaded, page,
        [page, taker] {
            if (page->runCount() > 0) {
                page->selectRun(0);
                page->computePpa();
            }
            if (!page->isComputing()) {
                std::fprintf(stderr, "blockscope: --compute-ppa: %s\n", qPrintable(page->statusText()));
                if (taker)
                    taker->arrived(); // nothing to wait for: the shot shows why
            }
        },
        Qt::SingleShotConnection);
}

// --experiment, --page, --runs and --what-if: what the pruning page shows at start.
void applyPruningOptions(blockscope::gui::MainWindow &window, const blockscope::gui::GuiOptions &options,
    blockscope::gui::ScreenshotTaker *taker)
{
    using blockscope::views::PruningPage;
    using blockscope::views::WhatIfController;
    PruningPage *page = window.pruningPage();
    if (!options.experiment.isEmpty()) {
        if (taker) {
            taker->expect();
            QObject::connect(page, &PruningPage::experimentLoaded, taker, &blockscope::gui::ScreenshotTaker::arrived,
                Qt::SingleShotConnection);
            QObject::connect(page, &PruningPage::experimentFailed, taker, &blockscope::gui::ScreenshotTaker::arrived,
                Qt::SingleShotConnection);
        }
        QObject::connect(
            page, &PruningPage::experimentLoaded, page,
            [page, runs = options.runs] {
                QList<int> rows;
                for (const QString &id : runs)
                    if (const int row = page->rowForRunId(id); row >= 0)
                        rows << row;
                if (!rows.isEmpty())
                    page->selectRuns(rows);
            },
            Qt::SingleShotConnection);
        window.openExperiment(options.experiment);
    }
    if (!options.whatIf.isEmpty()) {
        WhatIfController *whatIf = page->whatIf();
        if (taker) {
            taker->expect();
            QObject::connect(whatIf, &WhatIfController::evaluated, taker, &blockscope::gui::ScreenshotTaker::arrived,
                Qt::SingleShotConnection);
        }
        QObject::connect(
            &window, &blockscope::gui::MainWindow::modelOpened, whatIf,
            [whatIf, units = options.whatIf] {
                for (const QString &label : units) {
                    try {
                        const auto unit = blockscope::unitFromLabel(label.toStdString());
                        whatIf->toggle(unit.kind, unit.layer);
                    } catch (const std::exception &e) {
                        std::fprintf(stderr, "blockscope: --what-if: %s\n", e.what());
                    }
                }
            },
            Qt::SingleShotConnection);
    }
    if (!options.prune.method.isEmpty())
        startSearchAtOpen(window, options.prune, taker);
    if (!options.page.isEmpty())
        window.showPage(options.page);
    // The PPA page reads the experiment after the pruning page has: a shot of it waits for that too.
    if (options.page == QLatin1String("ppa") && !options.experiment.isEmpty() && taker) {
        using blockscope::views::PpaPage;
        taker->expect();
        QObject::connect(window.ppaPage(), &PpaPage::experimentLoaded, taker,
            &blockscope::gui::ScreenshotTaker::arrived, Qt::SingleShotConnection);
        QObject::connect(window.ppaPage(), &PpaPage::experimentFailed, taker,
            &blockscope::gui::ScreenshotTaker::arrived, Qt::SingleShotConnection);
    }
    if (options.computePpa)
        computePpaAtLoad(window, taker);
}

// --gates, --attention-text, --layer, --attention-tab, --train-gates and --sweep: what the
// attention page shows and runs at start. A shot waits for the page's snapshot and for a training
// run or sweep to end.
void applyAttentionOptions(blockscope::gui::MainWindow &window, const blockscope::gui::GuiOptions &options,
    blockscope::gui::ScreenshotTaker *taker)
{
    using blockscope::gui::ScreenshotTaker;
    using blockscope::views::AttentionPage;
    using blockscope::views::GateTrainPanel;
    using blockscope::views::SparsityPanel;
    AttentionPage *page = window.attentionPage();
    if (!options.attentionText.isEmpty()) {
        QString error;
        if (!page->loadTextFile(options.attentionText, &error))
            std::fprintf(stderr, "blockscope: --attention-text: %s\n", qPrintable(error));
    }
    if (!options.gates.isEmpty())
        page->setGatesFile(options.gates);
    if (options.page == QLatin1String("attention") && taker) {
        taker->expect();
        QObject::connect(
            page, &AttentionPage::snapshotShown, taker, &ScreenshotTaker::arrived, Qt::SingleShotConnection);
        QObject::connect(
            page, &AttentionPage::snapshotFailed, taker, &ScreenshotTaker::arrived, Qt::SingleShotConnection);
    }
    const QStringList tabs{"heatmaps", "tokens", "sweep", "training"};
    if (!options.attentionTab.isEmpty())
        page->tabs()->setCurrentIndex(static_cast<int>(tabs.indexOf(options.attentionTab)));
    if (!options.trainGates.isEmpty()) {
        GateTrainPanel *train = page->trainPanel();
        train->setOutputPath(options.trainGates);
        if (options.trainSteps > 0)
            train->setSteps(options.trainSteps);
        if (taker) {
            taker->expect();
            QObject::connect(
                train, &GateTrainPanel::trainingEnded, taker, &ScreenshotTaker::arrived, Qt::SingleShotConnection);
        }
    }
    if (options.sweep && taker) {
        taker->expect();
        QObject::connect(
            page->sweepPanel(), &SparsityPanel::sweepEnded, taker, &ScreenshotTaker::arrived, Qt::SingleShotConnection);
    }
    QObject::connect(
        &window, &blockscope::gui::MainWindow::modelOpened, page,
        [page, options] {
            if (options.layer >= 0)
                page->setLayer(options.layer);
            if (!options.trainGates.isEmpty())
                page->trainPanel()->train();
        },
        Qt::SingleShotConnection);
    // A sweep waits for the page's first snapshot: by then the session has loaded --gates.
    if (options.sweep && options.trainGates.isEmpty())
        QObject::connect(
            page, &AttentionPage::snapshotShown, page->sweepPanel(), [page] { page->sweepPanel()->run(); },
            Qt::SingleShotConnection);
    // Gates trained at start go on to the sweep once they are loaded (a new snapshot shows them).
    if (!options.trainGates.isEmpty() && options.sweep)
        QObject::connect(
            page->trainPanel(), &GateTrainPanel::trainingEnded, page,
            [page] {
                QObject::connect(
                    page, &AttentionPage::snapshotShown, page->sweepPanel(), [page] { page->sweepPanel()->run(); },
                    Qt::SingleShotConnection);
            },
            Qt::SingleShotConnection);
}
} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("Blockscope"));
    QApplication::setApplicationName(QStringLiteral("blockscope"));
    QApplication::setApplicationDisplayName(QStringLiteral("Blockscope"));
    QApplication::setApplicationVersion(QStringLiteral(BLOCKSCOPE_VERSION));
    initResources();

    const auto options = blockscope::gui::parseCommandLine(QApplication::arguments());
    if (!options.error.isEmpty()) {
        std::fprintf(stderr, "blockscope: %s\n", qPrintable(options.error));
        return 2;
    }
    if (options.exitNow)
        return 0;

    // Declared after the application and destroyed before it: the Qt log sink posts to its loop.
    blockscope::gui::LogSetup logging;
    blockscope::gui::MainWindow window;
    window.followLog(logging.relay());
    if (!logging.logFile().isEmpty())
        blockscope::gui::appLog()->info("logging to {}", logging.logFile().toStdString());

    blockscope::gui::ScreenshotTaker *taker = nullptr;
    if (options.screenshot.isEmpty())
        window.restoreLayout();
    else
        taker = new blockscope::gui::ScreenshotTaker(&window, options.screenshot, options.select);
    applyPruningOptions(window, options, taker);
    applyAttentionOptions(window, options, taker);
    if (options.windowSize.isValid())
        window.resize(options.windowSize);
    window.show();

    const QString path = options.path.isEmpty() ? blockscope::gui::defaultModelPath() : options.path;
    if (!options.select.isEmpty() && options.screenshot.isEmpty())
        QObject::connect(
            &window, &blockscope::gui::MainWindow::modelOpened, &window,
            [&window, item = options.select] { window.selectItem(item); }, Qt::SingleShotConnection);
    if (!path.isEmpty())
        window.openPath(path);
    else if (!options.screenshot.isEmpty())
        QTimer::singleShot(0, &window, [&window] { Q_EMIT window.statsDone(); }); // the empty state
    return app.exec();
}
