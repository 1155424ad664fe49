#include "metricfilterproxy.h"

#include "tracetablemodel.h"

#include <cmath>

namespace blockscope::views {

MetricFilterProxy::MetricFilterProxy(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setDynamicSortFilter(true);
}

void MetricFilterProxy::setMetricColumn(int column)
{
    if (column == m_column)
        return;
    m_column = column;
    invalidateFilter();
}

void MetricFilterProxy::setPositiveOnly(bool positive)
{
    if (positive == m_positive)
        return;
    m_positive = positive;
    invalidateFilter();
}

bool MetricFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QVariant v = sourceModel()->index(sourceRow, m_column, sourceParent).data(TraceTableModel::ValueRole);
    bool ok = false;
    const double d = v.toDouble(&ok);
    return ok && std::isfinite(d) && (!m_positive || d > 0);
}

} // namespace blockscope::views
