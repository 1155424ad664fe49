#include "runlistmodel.h"

#include "format.h"

#include <QColor>

#include <cmath>

namespace blockscope::views {

namespace {
const char *const runListModelNames[]
    = {"Run", "Method", "Status", "Steps", "Final PPL", "Final KL", "Removed", "Label"};
const char *const runListModelTips[]
    = {"Run id in the experiment file", "Pruning method", "running, complete, cancelled or failed", "Steps recorded",
        "Perplexity after the last evaluated step", "KL to dense after the last evaluated step (nats per token)",
        "Units removed, in removal order", "Label given when the run was started"};
} // namespace

RunListModel::RunListModel(QObject *parent)
    : ColumnTableModel(runListModelNames, runListModelTips, parent)
{
}

void RunListModel::setRuns(std::vector<RunSummary> runs)
{
    replaceRows(m_runs, std::move(runs));
}

int RunListModel::appendRun(RunSummary run)
{
    appendRow(m_runs, std::move(run));
    return runCount() - 1;
}

void RunListModel::updateRun(int row, RunSummary run)
{
    if (row < 0 || row >= rowCount())
        return;
    m_runs[static_cast<std::size_t>(row)] = std::move(run);
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

void RunListModel::removeRun(int row)
{
    if (row < 0 || row >= rowCount())
        return;
    beginRemoveRows({}, row, row);
    m_runs.erase(m_runs.begin() + row);
    endRemoveRows();
}

int RunListModel::rows() const
{
    return runCount();
}

QVariant RunListModel::data(const QModelIndex &index, int role) const
{
    if (!isCell(index))
        return {};
    const RunSummary &r = m_runs[static_cast<std::size_t>(index.row())];
    if (role == Qt::DisplayRole || role == SortRole) {
        const bool sort = role == SortRole;
        switch (index.column()) {
        case Id: return r.id.isEmpty() && !sort ? tr("(unsaved)") : r.id;
        case Label: return r.label;
        case Method: return r.method;
        case Status: return r.status;
        case Steps: return r.steps;
        case Removed: return sort ? QVariant(r.unitsRemoved) : QVariant(r.removed);
        case FinalPerplexity:
            if (std::isnan(r.finalPerplexity))
                return sort ? QVariant(-1.0) : QVariant();
            return sort ? QVariant(r.finalPerplexity) : QVariant(formatStat(r.finalPerplexity));
        case FinalKl:
            if (std::isnan(r.finalKl))
                return sort ? QVariant(-1.0) : QVariant();
            return sort ? QVariant(r.finalKl) : QVariant(formatStat(r.finalKl));
        default: return {};
        }
    }
    if (role == Qt::ToolTipRole) {
        if (index.column() == Removed)
            return r.removed;
        if (index.column() == FinalPerplexity && !std::isnan(r.densePerplexity))
            return tr("dense: %1").arg(formatStat(r.densePerplexity));
        return {};
    }
    if (role == Qt::ForegroundRole && index.column() == Status) {
        if (r.status == QLatin1String("failed"))
            return QColor(0xc6, 0x28, 0x28);
        if (r.status == QLatin1String("cancelled"))
            return QColor(0x9e, 0x6a, 0x00);
    }
    if (role == Qt::TextAlignmentRole
        && (index.column() == Steps || index.column() == FinalPerplexity || index.column() == FinalKl))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

} // namespace blockscope::views
