#pragma once

#include "runsummary.h"

#include "columntablemodel.h"

#include <vector>

namespace blockscope::views {

// The runs on the pruning page, one row each: live searches and the runs of the open experiment.
// It shows summaries the page hands it; the page (and the experiment file) keeps the runs.
class RunListModel : public ColumnTableModel
{
    Q_OBJECT
public:
    // The long, free-form columns last, where a narrow table cuts them rather than the numbers.
    enum Column { Id, Method, Status, Steps, FinalPerplexity, FinalKl, Removed, Label, ColumnCount };
    static constexpr int SortRole = Qt::UserRole + 1;

    explicit RunListModel(QObject *parent = nullptr);

    void setRuns(std::vector<RunSummary> runs);
    int appendRun(RunSummary run);
    void updateRun(int row, RunSummary run);
    void removeRun(int row);
    const RunSummary &run(int row) const { return m_runs[static_cast<std::size_t>(row)]; }
    int runCount() const { return static_cast<int>(m_runs.size()); }

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

private:
    int rows() const override;
    std::vector<RunSummary> m_runs;
};

} // namespace blockscope::views
