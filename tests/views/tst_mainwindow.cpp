#include "attentioncontroller.h"
#include "attentionpage.h"
#include "detailspane.h"
#include "heatmapview.h"
#include "jobrunner.h"
#include "layermap.h"
#include "mainwindow.h"
#include "messagebanner.h"
#include "model/modelhandle.h"
#include "modelfilterproxy.h"
#include "modeltreemodel.h"
#include "ppapage.h"
#include "ppapointmodel.h"
#include "ppatestpoints.h"
#include "pruningpage.h"
#include "recentfiles.h"
#include "store/experimentfile.h"
#include "testdata.h"
#include "whatifcontroller.h"

#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFont>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMimeData>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

#include <QTreeView>
#include <algorithm>

using namespace blockscope;
using namespace blockscope::gui;

class TestMainWindow : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_stories;

    QString writeFile(const QString &name, const QByteArray &bytes)
    {
        QFile f(m_dir.filePath(name));
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(bytes);
        return f.fileName();
    }

    bool openAndWait(MainWindow &w, const QString &path)
    {
        QSignalSpy opened(&w, &MainWindow::modelOpened);
        QSignalSpy stats(&w, &MainWindow::statsDone);
        w.openPath(path);
        return opened.wait(10000) && (stats.count() > 0 || stats.wait(10000));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        // Keep recent files and window state out of the user's settings.
        QCoreApplication::setOrganizationName(QStringLiteral("BlockscopeTests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_mainwindow"));
        QSettings::setDefaultFormat(QSettings::IniFormat);
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_dir.filePath(QStringLiteral("settings")));
        m_stories = test::sharedFile(QStringLiteral("models/stories260K/stories260K.bin"));
    }

    void startsEmptyWithHint()
    {
        MainWindow w;
        w.show();
        auto *hint = w.findChild<QLabel *>(QStringLiteral("emptyHint"));
        QVERIFY(hint);
        QVERIFY(hint->isVisible());
        QCOMPARE(hint->text(), QStringLiteral("Open a model (File > Open) or drop a folder here"));
        QVERIFY(!w.model());
        QVERIFY(!w.banner()->isVisible());
    }

    void opensModelAndFillsStats()
    {
        if (m_stories.isEmpty())
            QSKIP("stories260K not found (set BLOCKSCOPE_SHARED_DATA)");
        MainWindow w;
        w.show();
        QVERIFY(openAndWait(w, m_stories));
        QVERIFY(w.model());
        QCOMPARE(w.treeModel()->rowCount(), 7);
        QVERIFY(w.treeView()->isVisible());
        QVERIFY(!w.statsRunning());
        const QModelIndex q = w.treeModel()->indexForTensor(QStringLiteral("model.layers.4.mlp.down_proj.weight"));
        QVERIFY(q.siblingAtColumn(views::ModelTreeModel::Std).data().isValid());
        QSettings settings;
        QCOMPARE(RecentFiles(settings).files().value(0), QFileInfo(m_stories).absoluteFilePath());
    }

    // File > Open Sample Model lists the real model the setup fetched and opens it (here a
    // stand-in GGUF named through BLOCKSCOPE_SMOLLM2, where the lookup also finds the real one).
    void sampleMenuOpensTheFetchedModel()
    {
        const QString gguf = test::sharedFile(QStringLiteral("models/stories260K/stories260K.gguf"));
        if (gguf.isEmpty())
            QSKIP("stories260K.gguf not found (set BLOCKSCOPE_SHARED_DATA)");
        const QByteArray saved = qgetenv("BLOCKSCOPE_SMOLLM2");
        qputenv("BLOCKSCOPE_SMOLLM2", gguf.toUtf8());
        MainWindow w;
        w.show();
        QMenu *sample = nullptr;
        for (QAction *a : w.menuBar()->actions())
            if (a->menu())
                for (QAction *b : a->menu()->actions())
                    if (b->menu() && b->text().contains(QStringLiteral("Sample")))
                        sample = b->menu();
        QVERIFY(sample);
        QAction *smol = nullptr;
        for (QAction *a : sample->actions())
            if (a->text().contains(QStringLiteral("SmolLM2")))
                smol = a;
        QVERIFY(smol);
        QVERIFY(smol->toolTip().contains(gguf));
        QSignalSpy opened(&w, &MainWindow::modelOpened);
        smol->trigger();
        QVERIFY(opened.wait(10000));
        QCOMPARE(opened.first().first().toString(), gguf);
        if (saved.isEmpty())
            qunsetenv("BLOCKSCOPE_SMOLLM2");
        else
            qputenv("BLOCKSCOPE_SMOLLM2", saved);
    }

    void openErrorShowsMessageAndKeepsModel_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("bytes"); // empty: do not create the file
        QTest::addColumn<QString>("expect");
        QTest::newRow("truncated llama2.c header") << "broken.bin" << QByteArray(20, '\0') << "truncated";
        QTest::newRow("pytorch pickle") << "pytorch_model.bin" << QByteArray("PK\x03\x04 not a checkpoint") << "pickle";
        QTest::newRow("missing file") << "missing.safetensors" << QByteArray() << "no such file";
        QTest::newRow("unknown kind of file") << "notes.txt" << QByteArray("hello") << "cannot tell the format";
    }
    void openErrorShowsMessageAndKeepsModel()
    {
        QFETCH(QString, name);
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expect);
        if (m_stories.isEmpty())
            QSKIP("stories260K not found (set BLOCKSCOPE_SHARED_DATA)");
        const QString path = bytes.isEmpty() ? m_dir.filePath(name) : writeFile(name, bytes);
        MainWindow w;
        w.show();
        QVERIFY(openAndWait(w, m_stories));
        const auto before = w.model();
        QTreeView *tree = w.treeView();
        w.selectItem(QStringLiteral("Block 2/MLP"));

        QSignalSpy failed(&w, &MainWindow::openFailed);
        w.openPath(path);
        QVERIFY(failed.wait(10000));
        QVERIFY(w.banner()->isVisible());
        QCOMPARE(w.banner()->kind(), views::MessageBanner::Kind::Error);
        QVERIFY2(w.banner()->text().contains(expect, Qt::CaseInsensitive), qPrintable(w.banner()->text()));
        QVERIFY(w.banner()->text().contains(name));
        QCOMPARE(w.model(), before);
        QCOMPARE(w.treeModel()->rowCount(), 7);
        QVERIFY(tree->isVisible());
        QCOMPARE(tree->currentIndex().data().toString(), QStringLiteral("MLP"));
        // The next good open clears the banner.
        QVERIFY(openAndWait(w, m_stories));
        QVERIFY(!w.banner()->isVisible());
    }

    void errorWithNoModelOpenKeepsEmptyState()
    {
        MainWindow w;
        w.show();
        QSignalSpy failed(&w, &MainWindow::openFailed);
        w.openPath(m_dir.filePath(QStringLiteral("nothing-here.gguf")));
        QVERIFY(failed.wait(10000));
        QVERIFY(w.banner()->isVisible());
        QVERIFY(w.findChild<QLabel *>(QStringLiteral("emptyHint"))->isVisible());
    }

    void dropOpensFile()
    {
        if (m_stories.isEmpty())
            QSKIP("stories260K not found (set BLOCKSCOPE_SHARED_DATA)");
        MainWindow w;
        w.show();
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(m_stories)});
        QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(&w, &enter);
        QVERIFY(enter.isAccepted());
        QSignalSpy opened(&w, &MainWindow::modelOpened);
        QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(&w, &drop);
        QVERIFY(opened.wait(10000));
        QCOMPARE(opened.at(0).at(0).toString(), m_stories);
    }

    void detailsFollowSelection()
    {
        if (m_stories.isEmpty())
            QSKIP("stories260K not found (set BLOCKSCOPE_SHARED_DATA)");
        MainWindow w;
        w.show();
        QVERIFY(openAndWait(w, m_stories));
        QVERIFY(w.detailsPane()->html().contains(QStringLiteral("llama2.c")));
        QVERIFY(w.selectItem(QStringLiteral("model.layers.3.self_attn.k_proj.weight")));
        QVERIFY(w.detailsPane()->html().contains(QStringLiteral("model.layers.3.self_attn.k_proj.weight")));
        QVERIFY(!w.detailsPane()->html().contains(QStringLiteral("not computed yet")));
        QVERIFY(w.selectItem(QStringLiteral("Block 3")));
        QVERIFY(w.detailsPane()->html().contains(QStringLiteral("45,440")));
        QVERIFY(!w.selectItem(QStringLiteral("no such thing")));
    }

    void reopenUsesCachedStats()
    {
        if (m_stories.isEmpty())
            QSKIP("stories260K not found (set BLOCKSCOPE_SHARED_DATA)");
        MainWindow w;
        QVERIFY(openAndWait(w, m_stories));
        QSignalSpy opened(&w, &MainWindow::modelOpened);
        w.openPath(m_stories);
        QVERIFY(opened.wait(10000));
        // The tree has every statistic the moment the model is shown again: nothing to recompute.
        const QModelIndex q = w.treeModel()->indexForTensor(QStringLiteral("model.layers.0.mlp.gate_proj.weight"));
        QVERIFY(q.siblingAtColumn(views::ModelTreeModel::Mean).data().isValid());
    }

    void pruningPageFollowsTheModel()
    {
        const QString demo = test::sourceDir() + QStringLiteral("/resources/demo-model");
        MainWindow w;
        w.show();
        QCOMPARE(w.pages()->count(), 4);
        QCOMPARE(w.pages()->tabText(1), QStringLiteral("Pruning"));
        QVERIFY(w.showPage(QStringLiteral("pruning")));
        QCOMPARE(w.pages()->currentWidget(), w.pruningPage());
        QVERIFY(!w.showPage(QStringLiteral("nowhere")));
        QVERIFY(openAndWait(w, demo));
        QCOMPARE(w.pruningPage()->modelPath(), demo);
        QCOMPARE(w.pruningPage()->layerMap()->data().layers, 4);

        // What-if from the tree: the unit goes off on the page and is struck through in the tree.
        const QModelIndex mlp = w.treeModel()->indexForGroup({QStringLiteral("Block 1"), QStringLiteral("MLP")});
        w.toggleWhatIf(w.filterProxy()->mapFromSource(mlp));
        QVERIFY(w.pruningPage()->whatIf()->mask().skipMlp[1]);
        QVERIFY(mlp.data(Qt::FontRole).value<QFont>().strikeOut());
        w.toggleWhatIf(w.filterProxy()->mapFromSource(mlp));
        QVERIFY(!w.pruningPage()->whatIf()->mask().skipMlp[1]);
        // Rows that are not units do nothing.
        w.toggleWhatIf(w.filterProxy()->mapFromSource(w.treeModel()->indexForGroup({QStringLiteral("Embedding")})));
        QCOMPARE(w.pruningPage()->whatIf()->mask().skippedUnits(), 0);
        QVERIFY(QTest::qWaitFor([&] { return w.jobRunner()->runningCount() == 0; }, 60000));
    }

    void attentionPageFollowsTheModel()
    {
        // The page opens its session once it is shown, with the model's first paragraphs as text;
        // the maps come from the real engine.
        const QString demo = test::sourceDir() + QStringLiteral("/resources/demo-model");
        MainWindow w;
        w.show();
        QCOMPARE(w.pages()->tabText(2), QStringLiteral("Attention"));
        views::AttentionPage *page = w.attentionPage();
        QVERIFY(openAndWait(w, demo));
        QCOMPARE(page->modelPath(), demo);
        QCOMPARE(page->layerBox()->maximum(), 3);
        QCOMPARE(page->headBox()->count(), 5); // the mean and 4 heads
        QCOMPARE(page->blockSize(), 16); // a 1k-context model: small blocks
        QVERIFY(!page->text().isEmpty());
        QVERIFY(!page->snapshot()); // nothing computed while the page is hidden
        QSignalSpy shown(page, &views::AttentionPage::snapshotShown);
        QVERIFY(w.showPage(QStringLiteral("attention")));
        QVERIFY(shown.wait(60000));
        const auto snapshot = page->snapshot();
        QVERIFY(snapshot);
        QCOMPARE(snapshot->layer, 0);
        QCOMPARE(static_cast<int>(snapshot->heads.size()), 4);
        QVERIFY(!snapshot->hasGates);
        QCOMPARE(page->maskSource(), views::AttentionPage::MaskSource::Oracle);
        QCOMPARE(page->view(views::AttentionPage::View::Truth)->figure().grid.nb, snapshot->nb);
        QVERIFY(page->statusText().contains(QStringLiteral("tokens")));
        // Another layer asks the engine again; the mask follows without it.
        page->setLayer(2);
        QVERIFY(shown.wait(60000));
        QCOMPARE(page->snapshot()->layer, 2);
        const auto before = page->maskCellCount();
        sparse::MaskRule rule;
        rule.value = 0.2;
        page->setMaskRule(rule);
        QVERIFY(page->maskCellCount() < before);
        // A gate file that does not exist is an error in the banner, and the page keeps working.
        QSignalSpy failed(page->controller(), &views::AttentionController::failed);
        page->setGatesFile(m_dir.filePath(QStringLiteral("none.seergate.safetensors")));
        QVERIFY(failed.wait(30000));
        QVERIFY(page->banner()->isVisible());
        QVERIFY(page->gatesFile().isEmpty());
        QVERIFY(QTest::qWaitFor([&] { return w.jobRunner()->runningCount() == 0; }, 60000));
    }

    void openExperimentShowsThePruningPage()
    {
        MainWindow w;
        w.show();
        QSignalSpy failed(w.pruningPage(), &views::PruningPage::experimentFailed);
        w.openExperiment(m_dir.filePath(QStringLiteral("missing.h5")));
        QCOMPARE(w.pages()->currentWidget(), w.pruningPage());
        QVERIFY(failed.wait(10000));
        QVERIFY(w.pruningPage()->banner()->isVisible());
        QVERIFY(w.pruningPage()->banner()->text().contains(QStringLiteral("missing.h5")));
    }

    void ppaPageFollowsTheExperiment()
    {
        // An experiment with PPA points, opened as File > Open Experiment does: the pruning page
        // reads it, and the PPA tab after Attention shows its points.
        const std::string file = m_dir.filePath(QStringLiteral("ppa.h5")).toStdString();
        RunInfo info;
        info.layers = 4;
        info.options = PruneOptions::tinyTsDefaults(PruneMethod::Sleb);
        const std::string id = ExperimentFile::addRun(file, info);
        ExperimentFile::setPpa(file, id, test::syntheticRun(true, true));
        MainWindow w;
        w.show();
        QCOMPARE(w.pages()->tabText(3), QStringLiteral("PPA"));
        QCOMPARE(w.pages()->widget(3), w.ppaPage());
        QSignalSpy loaded(w.ppaPage(), &views::PpaPage::experimentLoaded);
        QSignalSpy started(w.jobRunner(), &views::JobRunner::jobStarted);
        w.openExperiment(QString::fromStdString(file));
        QVERIFY(loaded.wait(30000));
        QCOMPARE(w.ppaPage()->experimentPath(), QString::fromStdString(file));
        QCOMPARE(w.ppaPage()->pointModel(0)->rowCount(), 4);
        // One experiment, one document: both pages show what one read gave.
        QCOMPARE(w.pruningPage()->document(), w.ppaPage()->document());
        QCOMPARE(w.pruningPage()->runCount(), 1);
        QCOMPARE(std::count_if(started.begin(), started.end(),
                     [](const QList<QVariant> &a) {
                         return a.at(2).toString().startsWith(QStringLiteral("Open experiment"));
                     }),
            1);
        // A run written to the file and read back reaches both pages.
        ExperimentFile::addRun(file, info);
        QSignalSpy again(w.ppaPage(), &views::PpaPage::experimentLoaded);
        w.pruningPage()->document()->reload();
        QVERIFY(again.wait(30000));
        QCOMPARE(w.ppaPage()->runCount(), 2);
        QCOMPARE(w.pruningPage()->runCount(), 2);
        QVERIFY(w.showPage(QStringLiteral("ppa")));
        QCOMPARE(w.pages()->currentWidget(), w.ppaPage());
        // Opened again from the PPA page (File > Open Experiment), the window stays on it.
        w.openExperiment(QString::fromStdString(file));
        QCOMPARE(w.pages()->currentWidget(), w.ppaPage());
        QVERIFY(QTest::qWaitFor([&] { return w.jobRunner()->runningCount() == 0; }, 60000));
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
