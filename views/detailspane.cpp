#include "detailspane.h"

#include "detailstext.h"
#include "model/modelhandle.h"
#include "modeltreemodel.h"

#include <QTextBrowser>
#include <QVBoxLayout>

namespace blockscope::views {

DetailsPane::DetailsPane(QWidget *parent)
    : QWidget(parent)
    , m_browser(new QTextBrowser(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_browser);
    m_browser->setObjectName(QStringLiteral("detailsBrowser"));
    m_browser->setOpenLinks(false);
    refresh();
}

void DetailsPane::setTreeModel(ModelTreeModel *model)
{
    if (m_model)
        disconnect(m_model, nullptr, this, nullptr);
    m_model = model;
    m_index = QPersistentModelIndex();
    if (m_model) {
        connect(m_model, &QAbstractItemModel::modelReset, this, [this] {
            m_index = QPersistentModelIndex();
            refresh();
        });
        // Statistics arrive in batches; re-render only when they touch the item on show.
        connect(
            m_model, &QAbstractItemModel::dataChanged, this, [this](const QModelIndex &from, const QModelIndex &to) {
                if (m_index.isValid()
                    && (m_index.parent() == from.parent() && m_index.row() >= from.row() && m_index.row() <= to.row()))
                    refresh();
            });
    }
    refresh();
}

void DetailsPane::showItem(const QModelIndex &sourceIndex)
{
    m_index = sourceIndex.siblingAtColumn(0);
    refresh();
}

QString DetailsPane::html() const
{
    return m_browser->toHtml();
}

void DetailsPane::refresh()
{
    const auto model = m_model ? m_model->model() : nullptr;
    if (!model) {
        m_browser->setHtml(tr("<p style='color:#777777'>No model open.</p>"));
        return;
    }
    if (!m_index.isValid()) {
        m_browser->setHtml(modelDetailsHtml(*model));
        return;
    }
    const QModelIndex index = m_index;
    if (const TensorInfo *t = m_model->tensor(index)) {
        m_browser->setHtml(tensorDetailsHtml(*model, *t, m_model->statsFor(index)));
        return;
    }
    const auto *node = m_model->node(index);
    GroupTotals g;
    QStringList path;
    for (QModelIndex i = index; i.isValid(); i = i.parent())
        path.prepend(i.data().toString());
    g.name = path.join(QStringLiteral(" \u203a "));
    g.tensorCount = static_cast<int>(node->tensors.size());
    g.parameters = node->parameters;
    g.bytes = node->bytes;
    g.modelParameters = model->parameterCount();
    m_browser->setHtml(groupDetailsHtml(g, m_model->statsFor(index)));
}

} // namespace blockscope::views
