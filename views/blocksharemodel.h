#pragma once

#include "ppa/ppa.h"

#include "columntablemodel.h"

namespace blockscope::views {

// What the block-shares chart shows a unit's share of.
using BlockShareMetric = ppa::ShareMetric; // the metrics of ppa.h's unit shares

// The units of one PPA point (embedding, attn L, mlp L, lm_head, ...), one row each, with their
// share of the configuration's kept total: parameters, prefill FLOPs and decode bytes per token
// (modelled, the cost model), prefill time (measured per unit on this machine) and prefill energy
// per token (the measured total split by measured time, else modelled: each unit says). Removed units
// keep their row with a share of 0 and a marker for the chart. Holds a copy of the point's units.
class BlockShareModel : public ColumnTableModel
{
    Q_OBJECT
public:
    enum Column {
        Unit,
        Share, // of the selected metric, percent (removed: 0)
        RemovedMarker, // a stub for removed units (the chart hatches it), 0 for kept ones
        ParamsShare,
        FlopsShare,
        BytesShare,
        TimeShare, // measured
        TimeMs, // measured per-unit prefill time
        EnergyShare,
        EnergyMillijoules, // per token
        Removed, // 1 / 0
        ColumnCount
    };

    explicit BlockShareModel(QObject *parent = nullptr);

    void setPoint(const ppa::PpaPoint &point);
    // Each block's attention and MLP as one row (ppa::unitsByBlock), for deep models; the point's
    // own units otherwise (the default).
    void setByBlock(bool byBlock);
    bool byBlock() const { return m_byBlock; }
    // Blocks of the point shown (units with a layer, counted once per layer).
    int blockCount() const;
    void clear();
    QString pointLabel() const { return m_label; }
    void setMetric(BlockShareMetric metric);
    BlockShareMetric metric() const { return m_metric; }

    // "measured", "modelled" (or "measured and modelled" for a mix of unit figures); empty with none.
    QString provenance(BlockShareMetric metric) const;
    // "Share of parameters (modelled)".
    QString metricTitle(BlockShareMetric metric) const;
    static QString metricName(BlockShareMetric metric);
    // Whether the point has the figures for the metric (unit times: measured).
    bool hasMetric(BlockShareMetric metric) const;
    QString unitName(int row) const;
    bool isRemoved(int row) const;
    // "measured" or "modelled" for the unit's time or energy; empty when it has none.
    QString figureProvenance(int row, BlockShareMetric metric) const;
    double value(int row, int column) const;

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    int rows() const override;
    double share(int row, BlockShareMetric metric) const;

    void rebuild();

    std::vector<ppa::UnitCost> m_source; // the point's units
    std::vector<ppa::UnitCost> m_units; // the rows: m_source, or grouped by block
    bool m_byBlock = false;
    QString m_label;
    BlockShareMetric m_metric = BlockShareMetric::Params;
};

} // namespace blockscope::views
