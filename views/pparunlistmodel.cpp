#include "pparunlistmodel.h"

namespace blockscope::views {

PpaRunListModel::PpaRunListModel(QObject *parent)
    : ColumnTableModel(ColumnCount, parent)
{
}

void PpaRunListModel::setEntries(std::vector<Entry> entries)
{
    replaceRows(m_entries, std::move(entries));
}

void PpaRunListModel::updateEntry(int row, Entry entry)
{
    if (row < 0 || row >= entryCount())
        return;
    m_entries[static_cast<std::size_t>(row)] = std::move(entry);
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

int PpaRunListModel::rowForId(const QString &id) const
{
    for (int row = 0; row < entryCount(); ++row)
        if (entry(row).id == id)
            return row;
    return -1;
}

void PpaRunListModel::setShown(int row, bool shown)
{
    if (row < 0 || row >= entryCount() || entry(row).shown == shown)
        return;
    m_entries[static_cast<std::size_t>(row)].shown = shown;
    Q_EMIT dataChanged(index(row, Name), index(row, Name), {Qt::CheckStateRole});
    Q_EMIT shownChanged(row, shown);
}

int PpaRunListModel::rows() const
{
    return entryCount();
}

QVariant PpaRunListModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= entryCount())
        return {};
    const Entry &e = entry(index.row());
    if (role == Qt::CheckStateRole && index.column() == Name)
        return e.shown ? Qt::Checked : Qt::Unchecked;
    if (role == Qt::ToolTipRole) {
        if (e.points == 0)
            return tr("No PPA points yet: Compute PPA measures and models every step");
        return e.measuredOn.isEmpty() ? tr("%n point(s), modelled only", nullptr, e.points)
                                      : tr("%n point(s), measured on %1", nullptr, e.points).arg(e.measuredOn);
    }
    if (role == Qt::TextAlignmentRole && index.column() == Points)
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Name: return e.name;
    case Points: return e.points;
    case Measured: return e.points == 0 ? QStringLiteral("\u2014") : e.measuredOn.isEmpty() ? tr("no") : tr("yes");
    default: return {};
    }
}

bool PpaRunListModel::setData(const QModelIndex &index, const QVariant &value, int role)
{
    if (!index.isValid() || index.column() != Name || role != Qt::CheckStateRole)
        return false;
    setShown(index.row(), value.toInt() == Qt::Checked);
    return true;
}

Qt::ItemFlags PpaRunListModel::flags(const QModelIndex &index) const
{
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (index.isValid() && index.column() == Name)
        f |= Qt::ItemIsUserCheckable;
    return f;
}

QVariant PpaRunListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractItemModel::headerData(section, orientation, role);
    switch (section) {
    case Name: return tr("Run or sweep");
    case Points: return tr("Points");
    case Measured: return tr("Measured");
    default: return {};
    }
}

} // namespace blockscope::views
