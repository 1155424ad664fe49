#pragma once

#include <QPersistentModelIndex>
#include <QPointer>
#include <QWidget>

class QTextBrowser;

namespace blockscope::views {

class ModelTreeModel;

// What is known about the selected tree item: the architecture for no selection, a tensor's
// info and statistics, or a group's totals. Follows statistics as they arrive.
class DetailsPane : public QWidget
{
    Q_OBJECT
public:
    explicit DetailsPane(QWidget *parent = nullptr);

    void setTreeModel(ModelTreeModel *model);
    // An index of the tree model itself (not of a proxy); invalid for the model summary.
    void showItem(const QModelIndex &sourceIndex);
    QString html() const;

private:
    void refresh();

    QPointer<ModelTreeModel> m_model;
    QPersistentModelIndex m_index;
    QTextBrowser *m_browser;
};

} // namespace blockscope::views
