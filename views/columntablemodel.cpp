#include "columntablemodel.h"

#include <QCoreApplication>

#include <cmath>

namespace blockscope::views {

ColumnTableModel::ColumnTableModel(int columns, QObject *parent)
    : QAbstractTableModel(parent)
    , m_columns(columns)
{
}

int ColumnTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : rows();
}

int ColumnTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_columns;
}

QVariant ColumnTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    const auto count = static_cast<int>(m_names.size());
    if (orientation != Qt::Horizontal || section < 0 || section >= count)
        return QAbstractTableModel::headerData(section, orientation, role);
    const char *context = metaObject()->className();
    if (role == Qt::DisplayRole)
        return QCoreApplication::translate(context, m_names[static_cast<std::size_t>(section)]);
    if (role == Qt::ToolTipRole)
        return QCoreApplication::translate(context, m_tips[static_cast<std::size_t>(section)]);
    return {};
}

bool ColumnTableModel::isCell(const QModelIndex &index) const
{
    return checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid);
}

QVariant ColumnTableModel::numberCell(double v, int role, bool integral)
{
    if (role == Qt::UserRole + 1)
        return v;
    if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
        if (std::isnan(v))
            return {};
        if (role == Qt::ToolTipRole)
            return QString::number(v, 'g', 17);
        return integral ? QVariant(static_cast<qlonglong>(v)) : QVariant(v);
    }
    if (role == Qt::TextAlignmentRole)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

} // namespace blockscope::views
