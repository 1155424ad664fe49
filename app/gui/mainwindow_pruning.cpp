// The pruning page in the window (and the attention and PPA tabs after it): a tab beside the model tree, File > Open
// Experiment, what-if from the model tree's context menu, and the what-if result in the status bar.
#include "mainwindow.h"

#include "attentionpage.h"
#include "defaultmodel.h"
#include "model/modelhandle.h"
#include "modelfilterproxy.h"
#include "modeltreemodel.h"
#include "ppapage.h"
#include "pruningpage.h"
#include "whatifcontroller.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTreeView>

namespace blockscope::gui {

QWidget *MainWindow::createPages()
{
    m_pruning = new views::PruningPage(m_runner);
    m_pages = new QTabWidget;
    m_pages->setObjectName(QStringLiteral("pages"));
    m_pages->setDocumentMode(true);
    m_pages->addTab(m_stack, tr("Model"));
    m_pages->addTab(m_pruning, tr("Pruning"));
    m_pages->addTab(createAttentionPage(), tr("Attention"));
    m_pages->addTab(createPpaPage(), tr("PPA"));

    m_statusWhatIf = new QLabel;
    m_statusWhatIf->setObjectName(QStringLiteral("statusWhatIf"));
    views::WhatIfController *whatIf = m_pruning->whatIf();
    connect(whatIf, &views::WhatIfController::textChanged, m_statusWhatIf, [this, whatIf](const QString &text) {
        // Only a configuration with something switched off is news worth the status bar.
        m_statusWhatIf->setText(whatIf->mask().skippedUnits() > 0 ? tr("What-if: %1").arg(text) : QString());
    });
    connect(whatIf, &views::WhatIfController::maskChanged, this,
        [this, whatIf] { m_treeModel->setSwitchedOff(whatIf->mask()); });
    connect(this, &MainWindow::modelOpened, this, [this](const QString &path) {
        m_pruning->setDefaultCalibrationText(defaultCalibrationText(path));
        const auto model = m_models->model();
        m_pruning->setModel(path, model ? static_cast<int>(model->architecture().layers) : 0);
    });

    m_tree->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_tree, &QWidget::customContextMenuRequested, this, &MainWindow::treeContextMenu);
    return m_pages;
}

void MainWindow::createPruningActions(QMenu *file)
{
    file->addAction(tr("Open &Experiment\u2026"), this, &MainWindow::openExperimentDialog);
    QAction *exportModel = file->addAction(tr("E&xport Model\u2026"), this, &MainWindow::exportModelDialog);
    exportModel->setToolTip(tr("Write the selected run's configuration (or the what-if one) as a Hugging Face "
                               "folder that transformers loads"));
    QAction *exportReport = file->addAction(tr("Export &Report\u2026"), this, &MainWindow::exportReportDialog);
    exportReport->setToolTip(tr("Write the experiment's runs, charts, protocol cards, PPA and sweeps as one "
                                "HTML or PDF document"));
}

void MainWindow::exportReportDialog()
{
    const QString source = m_pruning->reportSource();
    if (source.isEmpty()) {
        QMessageBox::information(this, tr("Export Report"), tr("Open an experiment or run a search first."));
        return;
    }
    const QString suggested = QFileInfo(source).absolutePath() + QLatin1Char('/') + QFileInfo(source).completeBaseName()
        + QStringLiteral("-report.html");
    const QString out = QFileDialog::getSaveFileName(
        this, tr("Export Report"), suggested, tr("HTML, charts inline (*.html);;PDF (*.pdf)"));
    if (out.isEmpty())
        return;
    QString error;
    if (!m_pruning->exportReport(out, &error))
        QMessageBox::warning(this, tr("Export Report"), error);
}

void MainWindow::exportModelDialog()
{
    const QString what = m_pruning->exportModelDescription();
    if (what.isEmpty()) {
        QMessageBox::information(this, tr("Export Model"),
            tr("Select a run with at least one step on the pruning page (or open an experiment) first."));
        return;
    }
    const QString folder = QFileDialog::getExistingDirectory(this, tr("Export %1 into").arg(what));
    if (folder.isEmpty())
        return;
    bool force = false;
    if (!QDir(folder).isEmpty()) {
        if (QMessageBox::question(this, tr("Export Model"),
                tr("%1 is not empty. Replace everything in it with the export? It is replaced only once the "
                   "export is complete.")
                    .arg(folder))
            != QMessageBox::Yes)
            return;
        force = true;
    }
    QString error;
    if (!m_pruning->exportModel(folder, force, &error))
        QMessageBox::warning(this, tr("Export Model"), error);
}

void MainWindow::openExperimentDialog()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open Experiment"), QString(), tr("Experiment files (*.h5);;All files (*)"));
    if (!path.isEmpty())
        openExperiment(path);
}

void MainWindow::openExperiment(const QString &path)
{
    // The PPA page follows the pruning page's file: opened from there, the user stays there.
    if (m_pages->currentWidget() != m_ppa)
        showPage(QStringLiteral("pruning"));
    m_pruning->openExperiment(path);
}

bool MainWindow::showPage(const QString &name)
{
    if (name == QLatin1String("model"))
        m_pages->setCurrentWidget(m_stack);
    else if (name == QLatin1String("pruning"))
        m_pages->setCurrentWidget(m_pruning);
    else if (name == QLatin1String("attention"))
        m_pages->setCurrentWidget(m_attention);
    else if (name == QLatin1String("ppa"))
        m_pages->setCurrentWidget(m_ppa);
    else
        return false;
    return true;
}

void MainWindow::toggleWhatIf(const QModelIndex &treeIndex)
{
    const QModelIndex source = treeIndex.model() == m_proxy ? m_proxy->mapToSource(treeIndex) : treeIndex;
    if (const auto unit = m_treeModel->unitAt(source))
        m_pruning->whatIf()->toggle(unit->kind, unit->layer);
}

void MainWindow::treeContextMenu(const QPoint &pos)
{
    const QModelIndex index = m_tree->indexAt(pos);
    const auto unit = m_treeModel->unitAt(m_proxy->mapToSource(index));
    if (!unit || !m_models->model())
        return;
    views::WhatIfController *whatIf = m_pruning->whatIf();
    const UnitMask &mask = whatIf->mask();
    bool off = false;
    if (unit->layer < mask.layers()) {
        const auto l = static_cast<std::size_t>(unit->layer);
        off = unit->kind == UnitKind::Block     ? mask.blockSkipped(unit->layer)
            : unit->kind == UnitKind::Attention ? bool(mask.skipAttn[l])
                                                : bool(mask.skipMlp[l]);
    }
    QMenu menu(this);
    const QString name = QString::fromStdString(unit->label());
    menu.addAction(off ? tr("Switch %1 back on (what-if)").arg(name) : tr("Switch %1 off (what-if)").arg(name), this,
        [this, index] { toggleWhatIf(index); });
    QAction *reset = menu.addAction(tr("Reset what-if to dense"), whatIf, &views::WhatIfController::reset);
    reset->setEnabled(mask.skippedUnits() > 0);
    menu.addSeparator();
    menu.addAction(tr("Show the Pruning page"), this, [this] { showPage(QStringLiteral("pruning")); });
    menu.exec(m_tree->viewport()->mapToGlobal(pos));
}

} // namespace blockscope::gui
