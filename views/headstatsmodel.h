#pragma once

#include "sparse/blockmask.h"

#include "columntablemodel.h"

#include <vector>

namespace blockscope::views {

// What the current mask keeps in each head of the layer shown, one row per head and a last row
// for their mean (the attention page's per-head table; selecting a row shows that head). It holds
// copies of the statistics the page computed; the snapshot is the truth.
class HeadStatsModel : public ColumnTableModel
{
    Q_OBJECT
public:
    enum Column { Head, TileDensity, PairDensity, RecallMean, RecallP5, RecallMin, EmptyRows, ColumnCount };
    static constexpr int HeadRole = Qt::UserRole + 2; // the head number; -1 for the mean row

    explicit HeadStatsModel(QObject *parent = nullptr);

    // One entry per head; the mean row follows when there are any.
    void setStats(std::vector<sparse::MaskStats> perHead, const sparse::MaskStats &mean);
    void clear() { setStats({}, {}); }
    int headCount() const { return static_cast<int>(m_heads.size()); }
    // The row showing `head` (-1: the mean row); -1 when there is none.
    int rowForHead(int head) const;
    double value(int row, int column) const;

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

private:
    int rows() const override;
    const sparse::MaskStats *statsAt(int row) const;

    std::vector<sparse::MaskStats> m_heads;
    sparse::MaskStats m_mean;
};

} // namespace blockscope::views
