#pragma once

#include "chartwidget.h"

#include "blocksharemodel.h"

#include <QString>
#include <QStringList>

namespace blockscope::views {

class ChartValueProxy;

// Per unit of one configuration (embedding, attn L, mlp L, lm_head), its share of the kept
// total of parameters, prefill FLOPs or decode bytes (modelled) or of prefill time (measured):
// ../shared/specs/ppa.md, "Block-level PPA". One horizontal bar per unit, so the names read
// across; removed units keep their place as a short hatched grey bar and "(removed)" by the name. Fed from a
// BlockShareModel through a QVBarModelMapper; Qt Charts stays behind this QWidget.
class BlockSharesChart : public ChartWidget
{
    Q_OBJECT
public:
    explicit BlockSharesChart(QWidget *parent = nullptr);
    ~BlockSharesChart() override;

    // The units to show (the model must outlive the chart or be replaced first); null: none.
    void setModel(BlockShareModel *model);
    BlockShareModel *model() const { return m_model; }

    QStringList categories() const;
    // The bar heights: the shares (0 for removed units) and the removed markers (0 for kept units).
    QList<double> shares() const;
    QList<double> removedMarkers() const;
    QString shareSetName() const;
    QString shareAxisTitle() const;

    // PNG, SVG or PDF by the suffix.
    bool exportTo(const QString &path, QString *error = nullptr);
    // The units' shares: CSV (one row per unit) or JSON, every column saying measured or modelled.
    bool exportData(const QString &path, QString *error = nullptr) const;

private:
    void scheduleRefresh();
    void refresh();

    BlockShareModel *m_model = nullptr;
    QSortFilterProxyModel *m_reversed;
    ChartValueProxy *m_values;
    QHorizontalStackedBarSeries *m_series;
    QVBarModelMapper *m_mapper;
    QBarCategoryAxis *m_categories = nullptr;
    bool m_refreshPending = false;
};

} // namespace blockscope::views
