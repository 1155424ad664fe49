#pragma once

#include "model/tensorstats.h"
#include "model/unitmask.h"
#include "modeltree.h"
#include "prune/unit.h"

#include <QAbstractItemModel>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace blockscope {
class ModelHandle;
struct TensorInfo;
} // namespace blockscope

namespace blockscope::views {

// Adapts an opened model and a snapshot of its tensor statistics to a tree of groups and tensors.
// It owns neither: both are immutable snapshots replaced wholesale by setModel()/setStats().
class ModelTreeModel : public QAbstractItemModel
{
    Q_OBJECT
public:
    enum Column { Name, Shape, DType, Parameters, Bytes, Min, Max, Mean, Std, L2, Zeros, NanInf, ColumnCount };
    enum Role {
        SortRole = Qt::UserRole + 1, // raw number (or text) for the proxy to sort by
        KindRole, // ModelTree::Kind as int
    };

    explicit ModelTreeModel(QObject *parent = nullptr);
    ~ModelTreeModel() override;

    void setModel(std::shared_ptr<const ModelHandle> model);
    std::shared_ptr<const ModelHandle> model() const { return m_model; }
    // Replaces the statistics shown (a copy taken from the cache); only the statistic columns change.
    void setStats(std::map<std::string, TensorStats> stats);
    const std::map<std::string, TensorStats> &stats() const { return m_stats; }

    const ModelTree::Node *node(const QModelIndex &index) const;
    const TensorInfo *tensor(const QModelIndex &index) const;
    // The tensor's statistics, or a group's combined ones once all of its tensors have them.
    const TensorStats *statsFor(const QModelIndex &index) const;
    QModelIndex indexForTensor(const QString &name) const;
    QModelIndex indexForGroup(const QStringList &path) const;
    // The prunable unit a group row stands for: "Block 3" is block 3, its "Attention" and "MLP"
    // are those sublayers; none for other rows.
    std::optional<Unit> unitAt(const QModelIndex &index) const;
    // Units switched off for what-if: their rows' names are greyed and struck through.
    void setSwitchedOff(const UnitMask &mask);

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    int nodeId(const QModelIndex &index) const;
    QModelIndex indexOfNode(int id, int column = 0) const;
    QVariant display(const ModelTree::Node &n, int nodeId, int column) const;
    QVariant sortValue(const ModelTree::Node &n, int nodeId, int column) const;
    void recombine();
    void emitStatsChanged(int nodeId);
    bool switchedOff(const QModelIndex &index) const;

    std::shared_ptr<const ModelHandle> m_model;
    ModelTree m_tree;
    std::map<std::string, TensorStats> m_stats;
    std::vector<std::optional<TensorStats>> m_nodeStats; // per node, recomputed by recombine()
    UnitMask m_switchedOff;
};

} // namespace blockscope::views
