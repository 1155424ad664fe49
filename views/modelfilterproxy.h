#pragma once

#include <QCollator>
#include <QSortFilterProxyModel>

namespace blockscope::views {

// Filter box and column sorting for the model tree. A match keeps its ancestors (so a tensor is
// still shown inside its block) and a matching group keeps all of its children ("Block 3" shows
// the whole block). Sorting compares the raw values of ModelTreeModel::SortRole, not the text.
class ModelFilterProxy : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit ModelFilterProxy(QObject *parent = nullptr);

protected:
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    QCollator m_collator;
};

} // namespace blockscope::views
