#pragma once

#include "prune/trace.h"

#include "columntablemodel.h"

#include <vector>

namespace blockscope::views {

// The steps of one run as a table, one row per step, with the dense model first once its
// perplexity is known (0 units removed): what the trace chart plots and the step table lists.
// It holds copies of immutable trace steps; the run (live search or experiment file) is the truth.
class TraceTableModel : public ColumnTableModel
{
    Q_OBJECT
public:
    enum Column {
        Step,
        UnitsRemoved,
        Kind,
        Chosen,
        Score,
        Perplexity,
        KlToDense,
        Evaluations,
        Tokens,
        Seconds,
        ColumnCount
    };
    // The column's number as a double (NaN where there is none); Qt::DisplayRole gives the same
    // number, or nothing for NaN, so that QVXYModelMapper reads it directly.

    explicit TraceTableModel(QObject *parent = nullptr);

    void setSteps(std::vector<TraceStep> steps, double densePerplexity = TraceStep::NaN);
    void appendStep(TraceStep step);
    // Adds (or updates) the dense row in front of the steps; NaN removes it.
    void setDensePerplexity(double perplexity);
    double densePerplexity() const { return m_dense; }

    const std::vector<TraceStep> &steps() const { return m_steps; }
    // The step shown in `row`; null for the dense row or a row out of range.
    const TraceStep *stepAt(int row) const;
    bool hasDenseRow() const;

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

    // "attn 2, mlp 1": the units a step removed.
    static QString unitsText(const std::vector<Unit> &units);

private:
    int rows() const override;
    double value(int row, int column) const;

    std::vector<TraceStep> m_steps;
    double m_dense = TraceStep::NaN;
};

} // namespace blockscope::views
