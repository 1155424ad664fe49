// The PPA page in the window: a tab after Attention that follows the pruning page's experiment
// file (File > Open Experiment opens it on both) and the open model, and reads the file again
// when a search on the pruning page ends.
#include "mainwindow.h"

#include "ppapage.h"
#include "pruneform.h"
#include "pruningpage.h"

#include <QFileInfo>

namespace blockscope::gui {

QWidget *MainWindow::createPpaPage()
{
    m_ppa = new views::PpaPage(m_runner);
    connect(m_pruning, &views::PruningPage::experimentLoaded, m_ppa, [this](const QString &path) {
        if (path != m_ppa->experimentPath())
            m_ppa->openExperiment(path);
    });
    // A search writes into the pruning form's file: the PPA page shows it when it shows no other.
    connect(m_pruning, &views::PruningPage::runEnded, m_ppa, [this] {
        const QString file = m_pruning->form()->experimentPath();
        const QString shown = m_ppa->experimentPath();
        if (!file.isEmpty() && (shown.isEmpty() || shown == file) && QFileInfo::exists(file))
            m_ppa->openExperiment(file);
    });
    connect(this, &MainWindow::modelOpened, m_ppa, [this](const QString &path) { m_ppa->setModel(path); });
    return m_ppa;
}

} // namespace blockscope::gui
