#pragma once

// The base of the flat tables: a fixed set of columns, each with a name and a tooltip, and as many
// rows as the subclass holds.

#include <QAbstractTableModel>

#include <algorithm>
#include <span>
#include <vector>

namespace blockscope::views {

// Column count and horizontal header come from the column spec (names and tooltips translated in
// the subclass's context, so lupdate-style lookups see the subclass's class name); the row count is
// rows(). A subclass with a header that depends on its state passes only the count and overrides
// headerData.
class ColumnTableModel : public QAbstractTableModel
{
public:
    // The number behind a numeric cell (numberCell), for charts and sorting.
    static constexpr int ValueRole = Qt::UserRole + 1;

    template<std::size_t N>
    ColumnTableModel(const char *const (&names)[N], const char *const (&tips)[N], QObject *parent)
        : QAbstractTableModel(parent)
        , m_columns(static_cast<int>(N))
        , m_names(names)
        , m_tips(tips)
    {
    }
    ColumnTableModel(int columns, QObject *parent);

    int rowCount(const QModelIndex &parent = {}) const final;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

protected:
    virtual int rows() const = 0;
    // A valid index of this flat table (row and column in range, no parent).
    bool isCell(const QModelIndex &index) const;
    // A numeric cell: the number itself under ValueRole, nothing
    // shown for NaN, whole numbers without decimals when `integral`, every digit in the tooltip,
    // right-aligned.
    static QVariant numberCell(double v, int role, bool integral);

    // The row edits of a model whose rows are one vector, with the notifications views need.
    template<class Row>
    void replaceRows(std::vector<Row> &rows, std::vector<Row> replacement)
    {
        beginResetModel();
        rows = std::move(replacement);
        endResetModel();
    }
    template<class Row>
    void appendRow(std::vector<Row> &rows, Row row)
    {
        const int at = static_cast<int>(rows.size());
        beginInsertRows({}, at, at);
        rows.push_back(std::move(row));
        endInsertRows();
    }
    // Drops the rows from the first one `dropFrom` accepts to the end, then appends `row` (a resumed
    // run that re-reports from an earlier step replaces what it repeats).
    template<class Row, class Pred>
    void appendRowDropping(std::vector<Row> &rows, Row row, Pred dropFrom)
    {
        const auto from = std::find_if(rows.begin(), rows.end(), dropFrom);
        if (from != rows.end()) {
            beginRemoveRows({}, static_cast<int>(from - rows.begin()), static_cast<int>(rows.size()) - 1);
            rows.erase(from, rows.end());
            endRemoveRows();
        }
        appendRow(rows, std::move(row));
    }

private:
    int m_columns;
    std::span<const char *const> m_names, m_tips;
};

} // namespace blockscope::views
