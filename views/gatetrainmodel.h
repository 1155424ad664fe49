#pragma once

#include "sparse/gatetraining.h"

#include "columntablemodel.h"

#include <vector>

namespace blockscope::views {

// The steps of a gate training run, one row per optimiser step: what the loss chart plots and
// the step table lists. A resumed run continues from an earlier step: appending a step at or
// before the last one drops the rows from there on first, so the curve never doubles back.
class GateTrainModel : public ColumnTableModel
{
    Q_OBJECT
public:
    enum Column { Step, Loss, LearningRate, Tokens, Seconds, ColumnCount };

    explicit GateTrainModel(QObject *parent = nullptr);

    void appendStep(sparse::GateTrainStep step);
    void clear();
    const std::vector<sparse::GateTrainStep> &steps() const { return m_steps; }
    double value(int row, int column) const;

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

private:
    int rows() const override;
    std::vector<sparse::GateTrainStep> m_steps;
};

// The held-out evaluations of a gate training run (at step 0, every evalEvery steps and at the
// end), one row each. HeldOutLoss is 10 x the sum of the per-layer KL, the training loss's scale,
// so both lines share the loss chart's axis; Kl is the mean over layers as the trace reports it.
class GateEvalModel : public ColumnTableModel
{
    Q_OBJECT
public:
    enum Column { Step, HeldOutLoss, Kl, Recall, RecallStatic, Density, ColumnCount };

    explicit GateEvalModel(QObject *parent = nullptr);

    // Replaces a point of the same step (a resumed run re-evaluates where it starts).
    void appendPoint(sparse::GateEvalPoint point);
    void clear();
    const std::vector<sparse::GateEvalPoint> &points() const { return m_points; }
    double value(int row, int column) const;

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

private:
    int rows() const override;
    std::vector<sparse::GateEvalPoint> m_points;
};

} // namespace blockscope::views
