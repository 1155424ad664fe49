#pragma once

#include <QSortFilterProxyModel>

namespace blockscope::views {

// Passes the rows of a trace table whose metric column holds a finite number (a step evaluated
// without perplexity, or the dense row for a score, has none), so a chart series fed from it
// never plots a missing value as zero.
class MetricFilterProxy : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit MetricFilterProxy(QObject *parent = nullptr);

    void setMetricColumn(int column);
    int metricColumn() const { return m_column; }
    // Also drops values <= 0 (for a logarithmic axis).
    void setPositiveOnly(bool positive);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    int m_column = 0;
    bool m_positive = false;
};

} // namespace blockscope::views
