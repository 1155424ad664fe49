#pragma once

#include "sparse/gatetraining.h"

#include "columntablemodel.h"

#include <vector>

namespace blockscope::views {

// Rows that carry their training step, in step order. A resumed run continues from an earlier
// step: adding a row at or before the last one drops the rows from there on first, so a curve
// never doubles back.
template<class Row>
class StepRowsModel : public ColumnTableModel
{
public:
    using ColumnTableModel::ColumnTableModel;

    void add(Row row)
    {
        const auto from = row.step;
        appendRowDropping(m_rows, std::move(row), [from](const Row &r) { return r.step >= from; });
    }
    void clear() { replaceRows(m_rows, {}); }
    const std::vector<Row> &rowData() const { return m_rows; }

protected:
    // The row's record, or null out of range.
    const Row *at(int row) const { return row < 0 || row >= rows() ? nullptr : &m_rows[static_cast<std::size_t>(row)]; }

private:
    int rows() const override { return static_cast<int>(m_rows.size()); }
    std::vector<Row> m_rows;
};

// The steps of a gate training run, one row per optimiser step: what the loss chart plots and
// the step table lists.
class GateTrainModel : public StepRowsModel<sparse::GateTrainStep>
{
    Q_OBJECT
public:
    enum Column { Step, Loss, LearningRate, Tokens, Seconds, ColumnCount };

    explicit GateTrainModel(QObject *parent = nullptr);

    void appendStep(sparse::GateTrainStep step) { add(std::move(step)); }
    const std::vector<sparse::GateTrainStep> &steps() const { return rowData(); }
    double value(int row, int column) const;

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
};

// The held-out evaluations of a gate training run (at step 0, every evalEvery steps and at the
// end), one row each. HeldOutLoss is 10 x the sum of the per-layer KL, the training loss's scale,
// so both lines share the loss chart's axis; Kl is the mean over layers as the trace reports it.
class GateEvalModel : public StepRowsModel<sparse::GateEvalPoint>
{
    Q_OBJECT
public:
    enum Column { Step, HeldOutLoss, Kl, Recall, RecallStatic, Density, ColumnCount };

    explicit GateEvalModel(QObject *parent = nullptr);

    // Replaces a point of the same step (a resumed run re-evaluates where it starts).
    void appendPoint(sparse::GateEvalPoint point) { add(std::move(point)); }
    const std::vector<sparse::GateEvalPoint> &points() const { return rowData(); }
    double value(int row, int column) const;

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
};

} // namespace blockscope::views
