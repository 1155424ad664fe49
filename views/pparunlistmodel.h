#pragma once

#include "columntablemodel.h"
#include <QString>

#include <vector>

namespace blockscope::views {

// The runs and sweeps of the open experiment on the PPA page, one row each, with a check box for
// "drawn on the chart". It shows summaries the page hands it; the page keeps the points.
class PpaRunListModel : public ColumnTableModel
{
    Q_OBJECT
public:
    enum Column { Name, Points, Measured, ColumnCount };

    struct Entry
    {
        QString id; // "run-0001", "sweep-0001"
        QString name; // "run-0001 SLEB (2 blocks)"
        bool sweep = false;
        int points = 0; // PPA points
        QString measuredOn; // the device of the first measured point; empty: modelled only
        bool shown = true;
    };

    explicit PpaRunListModel(QObject *parent = nullptr);

    void setEntries(std::vector<Entry> entries);
    void updateEntry(int row, Entry entry);
    const Entry &entry(int row) const { return m_entries[static_cast<std::size_t>(row)]; }
    int entryCount() const { return static_cast<int>(m_entries.size()); }
    int rowForId(const QString &id) const;
    void setShown(int row, bool shown);

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex &index, const QVariant &value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void shownChanged(int row, bool shown);

private:
    int rows() const override;
    std::vector<Entry> m_entries;
};

} // namespace blockscope::views
