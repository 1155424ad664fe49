// The attention page in the window: a tab beside the pruning page that follows the open model,
// starting from a text that suits it.
#include "mainwindow.h"

#include "attentionpage.h"
#include "defaultmodel.h"
#include "model/modelhandle.h"

namespace blockscope::gui {

QWidget *MainWindow::createAttentionPage()
{
    m_attention = new views::AttentionPage(m_runner);
    connect(this, &MainWindow::modelOpened, this, [this](const QString &path) {
        const auto model = m_models->model();
        const Architecture *a = model ? &model->architecture() : nullptr;
        m_attention->setModel(
            path, a ? static_cast<int>(a->layers) : 0, a ? static_cast<int>(a->heads) : 0, a ? a->context : 0);
        m_attention->setDefaultText(defaultCalibrationText(path));
    });
    return m_attention;
}

} // namespace blockscope::gui
