#include "blocksharemodel.h"

#include <algorithm>
#include <cmath>

namespace blockscope::views {

BlockShareModel::BlockShareModel(QObject *parent)
    : ColumnTableModel(ColumnCount, parent)
{
}

void BlockShareModel::setPoint(const ppa::PpaPoint &point)
{
    beginResetModel();
    m_source = point.costs.units;
    m_label = QString::fromStdString(point.label);
    rebuild();
    endResetModel();
}

void BlockShareModel::setByBlock(bool byBlock)
{
    if (byBlock == m_byBlock)
        return;
    beginResetModel();
    m_byBlock = byBlock;
    rebuild();
    endResetModel();
}

void BlockShareModel::rebuild()
{
    m_units = m_byBlock ? ppa::unitsByBlock(m_source) : m_source;
}

int BlockShareModel::blockCount() const
{
    int last = -1;
    for (const ppa::UnitCost &u : m_source)
        last = std::max(last, u.layer);
    return last + 1;
}

void BlockShareModel::clear()
{
    beginResetModel();
    m_source.clear();
    m_units.clear();
    m_label.clear();
    endResetModel();
}

void BlockShareModel::setMetric(BlockShareMetric metric)
{
    if (metric == m_metric)
        return;
    m_metric = metric;
    if (!m_units.empty())
        Q_EMIT dataChanged(index(0, Share), index(rowCount() - 1, RemovedMarker));
    Q_EMIT headerDataChanged(Qt::Horizontal, Share, RemovedMarker);
}

double BlockShareModel::share(int row, BlockShareMetric metric) const
{
    return ppa::unitShares(m_units, metric)[static_cast<std::size_t>(row)];
}

bool BlockShareModel::hasMetric(BlockShareMetric metric) const
{
    return ppa::keptTotal(m_units, metric) > 0;
}

QString BlockShareModel::provenance(BlockShareMetric metric) const
{
    return QString::fromStdString(ppa::sharesProvenance(m_units, metric));
}

QString BlockShareModel::metricName(BlockShareMetric metric)
{
    switch (metric) {
    case BlockShareMetric::Params: return tr("parameters");
    case BlockShareMetric::Flops: return tr("prefill FLOPs per token");
    case BlockShareMetric::Bytes: return tr("decode bytes per token");
    case BlockShareMetric::Time: return tr("prefill time");
    case BlockShareMetric::Energy: return tr("prefill energy per token");
    }
    return {};
}

QString BlockShareModel::metricTitle(BlockShareMetric metric) const
{
    const QString how = provenance(metric);
    return how.isEmpty() ? tr("Share of %1 (not measured)").arg(metricName(metric))
                         : tr("Share of %1 (%2)").arg(metricName(metric), how);
}

QString BlockShareModel::unitName(int row) const
{
    return row >= 0 && row < rowCount() ? QString::fromStdString(m_units[static_cast<std::size_t>(row)].unit)
                                        : QString();
}

bool BlockShareModel::isRemoved(int row) const
{
    return row >= 0 && row < rowCount() && m_units[static_cast<std::size_t>(row)].removed;
}

QString BlockShareModel::figureProvenance(int row, BlockShareMetric metric) const
{
    if (row < 0 || row >= rowCount())
        return {};
    const ppa::Figure *f = ppa::unitFigure(m_units[static_cast<std::size_t>(row)], metric);
    return f && f->known() ? QString::fromLatin1(ppa::provenanceName(f->provenance)) : QString();
}

double BlockShareModel::value(int row, int column) const
{
    if (row < 0 || row >= rowCount())
        return ppa::NaN;
    const ppa::UnitCost &u = m_units[static_cast<std::size_t>(row)];
    switch (column) {
    case Share: return share(row, m_metric);
    case RemovedMarker: {
        if (!u.removed)
            return 0;
        // A stub a fifth the height of the largest kept share: visible, never mistaken for a share.
        double top = 0;
        for (int r = 0; r < rowCount(); ++r)
            if (const double s = share(r, m_metric); std::isfinite(s))
                top = std::max(top, s);
        return top > 0 ? 0.2 * top : 1.0;
    }
    case ParamsShare: return share(row, BlockShareMetric::Params);
    case FlopsShare: return share(row, BlockShareMetric::Flops);
    case BytesShare: return share(row, BlockShareMetric::Bytes);
    case TimeShare: return share(row, BlockShareMetric::Time);
    case TimeMs: return u.seconds.known() ? u.seconds.value * 1e3 : ppa::NaN;
    case EnergyShare: return share(row, BlockShareMetric::Energy);
    case EnergyMillijoules: return u.joulesPerToken.known() ? u.joulesPerToken.value * 1e3 : ppa::NaN;
    case Removed: return u.removed ? 1 : 0;
    default: return ppa::NaN;
    }
}

int BlockShareModel::rows() const
{
    return static_cast<int>(m_units.size());
}

QVariant BlockShareModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= ColumnCount)
        return {};
    const int row = index.row(), column = index.column();
    if (role == ValueRole)
        return column == Unit ? QVariant(unitName(row)) : QVariant(value(row, column));
    if (role == Qt::ToolTipRole) {
        if (isRemoved(row))
            return tr("%1: removed in this configuration").arg(unitName(row));
        const double ms = value(row, TimeMs), mj = value(row, EnergyMillijoules);
        return tr("%1: %2 % of parameters, %3 % of prefill FLOPs, %4 % of decode bytes (modelled); %5; %6")
            .arg(unitName(row))
            .arg(value(row, ParamsShare), 0, 'f', 1)
            .arg(value(row, FlopsShare), 0, 'f', 1)
            .arg(value(row, BytesShare), 0, 'f', 1)
            .arg(std::isfinite(ms) ? tr("%1 % of prefill time, %2 ms (%3)")
                                         .arg(value(row, TimeShare), 0, 'f', 1)
                                         .arg(ms, 0, 'g', 4)
                                         .arg(figureProvenance(row, BlockShareMetric::Time))
                                   : tr("time not measured"),
                std::isfinite(mj) ? tr("%1 % of prefill energy, %2 mJ/token (%3)")
                                        .arg(value(row, EnergyShare), 0, 'f', 1)
                                        .arg(mj, 0, 'g', 4)
                                        .arg(figureProvenance(row, BlockShareMetric::Energy))
                                  : tr("no energy figure"));
    }
    if (role != Qt::DisplayRole)
        return {};
    if (column == Unit)
        return isRemoved(row) ? tr("%1 (removed)").arg(unitName(row)) : unitName(row);
    if (column == Removed)
        return isRemoved(row) ? tr("removed") : QString();
    const double v = value(row, column);
    return std::isfinite(v) ? QString::number(v, 'g', 4) : QStringLiteral("\u2014");
}

QVariant BlockShareModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractItemModel::headerData(section, orientation, role);
    switch (section) {
    case Unit: return tr("Unit");
    case Share: return metricTitle(m_metric);
    case RemovedMarker: return tr("removed unit");
    case ParamsShare: return tr("% params (modelled)");
    case FlopsShare: return tr("% prefill FLOPs (modelled)");
    case BytesShare: return tr("% decode bytes (modelled)");
    case TimeShare:
    case TimeMs: {
        const QString how = provenance(BlockShareMetric::Time);
        return (section == TimeShare ? tr("% prefill time (%1)") : tr("prefill ms (%1)"))
            .arg(how.isEmpty() ? tr("not measured") : how);
    }
    case EnergyShare:
    case EnergyMillijoules: {
        const QString how = provenance(BlockShareMetric::Energy);
        return (section == EnergyShare ? tr("% prefill energy (%1)") : tr("prefill mJ/token (%1)"))
            .arg(how.isEmpty() ? tr("none") : how);
    }
    case Removed: return tr("Removed");
    default: return {};
    }
}

} // namespace blockscope::views
