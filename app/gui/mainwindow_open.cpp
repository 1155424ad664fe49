// Opening checkpoints (menu, recent files, drag and drop, command line) and the statistics job
// that follows each open.
#include "mainwindow.h"

#include "evaluationpanel.h"

#include "common/formaterror.h"
#include "defaultmodel.h"
#include "jobs/jobcontext.h"
#include "logsetup.h"
#include "messagebanner.h"
#include "model/modelhandle.h"
#include "model/samplemodels.h"
#include "model/tensorstats.h"
#include "modeltreemodel.h"
#include "recentfiles.h"

#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMimeData>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTimer>
#include <QTreeView>

namespace blockscope::gui {

namespace {
QString firstLocalPath(const QMimeData *mime)
{
    if (!mime || !mime->hasUrls())
        return {};
    for (const QUrl &url : mime->urls())
        if (url.isLocalFile())
            return url.toLocalFile();
    return {};
}
} // namespace

void MainWindow::openPath(const QString &path)
{
    statusBar()->showMessage(tr("Opening %1\u2026").arg(path));
    m_models->open(path);
}

void MainWindow::showOpenedModel(const QString &path)
{
    const auto model = m_models->model();
    m_evaluation->setModelPath(path);
    m_treeModel->setModel(model);
    m_treeModel->setStats(m_models->stats()->snapshot());
    m_stack->setCurrentIndex(1);
    fitColumns();

    if (model->warnings().empty()) {
        m_banner->hide();
    } else {
        QStringList lines;
        for (const auto &w : model->warnings())
            lines << QString::fromStdString(w);
        m_banner->showMessage(views::MessageBanner::Kind::Warning, lines.join(QLatin1Char('\n')));
    }
    QSettings settings;
    RecentFiles(settings).add(path);
    rebuildRecentMenu();
    setWindowTitle(QStringLiteral("%1 \u2014 Blockscope").arg(QFileInfo(path).fileName()));
    statusBar()->showMessage(tr("Opened %1").arg(path), 5000);
    updateStatusBar();
    appLog()->info("opened {}", path.toStdString());
    Q_EMIT modelOpened(path);
}

void MainWindow::showOpenError(const QString &path, const QString &message)
{
    // The message names the file, offset and field already (FormatError) or the bad request
    // (UsageError); the model that was open stays open.
    m_banner->showMessage(views::MessageBanner::Kind::Error,
        tr("Could not open %1\n%2").arg(QFileInfo(QDir::cleanPath(path)).fileName(), message));
    statusBar()->clearMessage();
    appLog()->error("could not open {}: {}", path.toStdString(), message.toStdString());
    Q_EMIT openFailed(path, message);
}

void MainWindow::refreshStats()
{
    if (const auto stats = m_models->stats())
        m_treeModel->setStats(stats->snapshot());
}

// The bundled demo model and the real models the setup fetched (SmolLM2-135M-Instruct), so a new
// user reaches a real checkpoint without knowing where the setup put it.
void MainWindow::buildSampleMenu(QMenu *menu)
{
    if (const QString demo = defaultModelPath(); !demo.isEmpty()) {
        QAction *a
            = menu->addAction(tr("Demo model (bundled, 0.86M parameters)"), this, [this, demo] { openPath(demo); });
        a->setToolTip(demo);
    }
    for (const SampleModel &s : availableSampleModels()) {
        const QString path = QString::fromStdString(s.path);
        QAction *a = menu->addAction(QString::fromStdString(s.name), this, [this, path] { openPath(path); });
        a->setToolTip(QString::fromStdString(s.description) + QStringLiteral("\n") + path);
        a->setStatusTip(QString::fromStdString(s.description));
    }
    if (menu->isEmpty())
        menu->addAction(tr("None found (packaging/setup-deps.sh fetches SmolLM2)"))->setEnabled(false);
    menu->setToolTipsVisible(true);
}

void MainWindow::rebuildRecentMenu()
{
    if (!m_recentMenu)
        return;
    m_recentMenu->clear();
    QSettings settings;
    const QStringList files = RecentFiles(settings).files();
    for (const QString &f : files)
        m_recentMenu->addAction(f, this, [this, f] { openPath(f); });
    if (files.isEmpty()) {
        m_recentMenu->addAction(tr("No recent files"))->setEnabled(false);
        return;
    }
    m_recentMenu->addSeparator();
    m_recentMenu->addAction(tr("Clear List"), this, [this] {
        QSettings s;
        RecentFiles(s).clear();
        rebuildRecentMenu();
    });
}

void MainWindow::openFileDialog()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open Checkpoint"), QString(), tr("Checkpoints (*.safetensors *.gguf *.bin *.json);;All files (*)"));
    if (!path.isEmpty())
        openPath(path);
}

void MainWindow::openFolderDialog()
{
    const QString path = QFileDialog::getExistingDirectory(this, tr("Open Checkpoint Folder"));
    if (!path.isEmpty())
        openPath(path);
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    if (!firstLocalPath(event->mimeData()).isEmpty())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    const QString path = firstLocalPath(event->mimeData());
    if (path.isEmpty())
        return;
    event->acceptProposedAction();
    openPath(path);
}

} // namespace blockscope::gui
