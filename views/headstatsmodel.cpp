#include "headstatsmodel.h"

#include <QFont>

#include <cmath>
#include <limits>

namespace blockscope::views {

namespace {
const char *const headStatsModelNames[]
    = {"Head", "Tile density", "Pair density", "Recall (mean)", "Recall (p5)", "Recall (min)", "Empty rows"};
const char *const headStatsModelTips[] = {"Query head of the layer shown (the last row: their mean)",
    "Selected causal tiles / nb(nb+1)/2, forced rows included", "Causal token pairs inside selected tiles / N(N+1)/2",
    "Mean over tokens of the true attention mass the mask keeps", "5th percentile of that recall over tokens",
    "Minimum of that recall over tokens", "Tokens with no selected key (their output is 0)"};
} // namespace

HeadStatsModel::HeadStatsModel(QObject *parent)
    : ColumnTableModel(headStatsModelNames, headStatsModelTips, parent)
{
}

void HeadStatsModel::setStats(std::vector<sparse::MaskStats> perHead, const sparse::MaskStats &mean)
{
    // A slider move changes the numbers, not the rows: update in place so selections stay.
    if (perHead.size() == m_heads.size() && !m_heads.empty()) {
        m_heads = std::move(perHead);
        m_mean = mean;
        Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
        return;
    }
    beginResetModel();
    m_heads = std::move(perHead);
    m_mean = mean;
    endResetModel();
}

int HeadStatsModel::rowForHead(int head) const
{
    if (m_heads.empty())
        return -1;
    if (head < 0)
        return headCount();
    return head < headCount() ? head : -1;
}

const sparse::MaskStats *HeadStatsModel::statsAt(int row) const
{
    if (row < 0 || row > headCount() || m_heads.empty())
        return nullptr;
    return row == headCount() ? &m_mean : &m_heads[static_cast<std::size_t>(row)];
}

double HeadStatsModel::value(int row, int column) const
{
    const sparse::MaskStats *s = statsAt(row);
    if (!s)
        return std::numeric_limits<double>::quiet_NaN();
    switch (column) {
    case Head: return row == headCount() ? -1.0 : row;
    case TileDensity: return s->tileDensity;
    case PairDensity: return s->pairDensity;
    case RecallMean: return s->recallMean;
    case RecallP5: return s->recallP5;
    case RecallMin: return s->recallMin;
    case EmptyRows: return static_cast<double>(s->emptyRows);
    default: return std::numeric_limits<double>::quiet_NaN();
    }
}

int HeadStatsModel::rows() const
{
    return m_heads.empty() ? 0 : headCount() + 1;
}

QVariant HeadStatsModel::data(const QModelIndex &index, int role) const
{
    if (!isCell(index))
        return {};
    const int row = index.row(), column = index.column();
    const bool meanRow = row == headCount();
    if (role == HeadRole)
        return meanRow ? -1 : row;
    const double v = value(row, column);
    if (role == ValueRole)
        return v;
    if (role == Qt::DisplayRole) {
        if (column == Head)
            return meanRow ? tr("mean") : tr("head %1").arg(row);
        if (std::isnan(v))
            return QStringLiteral("\u2014");
        if (column == EmptyRows)
            return static_cast<qlonglong>(v);
        return QString::number(v, 'f', 3);
    }
    if (role == Qt::TextAlignmentRole && column != Head)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::FontRole && meanRow) {
        QFont bold;
        bold.setBold(true);
        return bold;
    }
    return {};
}

} // namespace blockscope::views
