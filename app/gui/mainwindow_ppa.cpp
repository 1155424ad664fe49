// The PPA page in the window: a tab after Attention that shows the same experiment document as the
// pruning page (what either opens, or a search writes, both show) and follows the open model.
#include "mainwindow.h"

#include "ppapage.h"
#include "pruneform.h"
#include "pruningpage.h"

#include <QFileInfo>

namespace blockscope::gui {

QWidget *MainWindow::createPpaPage()
{
    m_ppa = new views::PpaPage(m_runner);
    // One experiment, one document: what either page opens or a search writes, both show.
    m_ppa->setDocument(m_pruning->document());
    connect(this, &MainWindow::modelOpened, m_ppa, [this](const QString &path) { m_ppa->setModel(path); });
    return m_ppa;
}

} // namespace blockscope::gui
