#pragma once

#include <QIdentityProxyModel>

namespace blockscope::views {

// Qt Charts' model mappers read Qt::DisplayRole; the tables format that role as text ("51,234",
// "8.5 modelled"). This proxy hands the mappers the number behind a cell instead (`valueRole`,
// the models' ValueRole), so one model feeds both a table and a chart.
class ChartValueProxy : public QIdentityProxyModel
{
public:
    explicit ChartValueProxy(int valueRole, QObject *parent = nullptr)
        : QIdentityProxyModel(parent)
        , m_valueRole(valueRole)
    {
    }

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override
    {
        return QIdentityProxyModel::data(index, role == Qt::DisplayRole ? m_valueRole : role);
    }

private:
    int m_valueRole;
};

} // namespace blockscope::views
