#pragma once

#include <QAbstractTableModel>
#include <QStringList>

#include <vector>

namespace blockscope {
struct ExperimentRun;
}

namespace blockscope::views {

// Two runs side by side: one row per quantity (method, options that differ, removed units in
// order, units only one of them removed, final perplexity and KL, cost), one column per run.
// Rows where the runs differ are marked so the eye goes to them.
class RunCompareModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    static constexpr int DiffersRole = Qt::UserRole + 1;

    explicit RunCompareModel(QObject *parent = nullptr);

    void setRuns(const ExperimentRun &a, const ExperimentRun &b);
    void clear();
    // The row's name, e.g. "Final PPL"; -1 when there is none.
    int rowNamed(const QString &name) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Row
    {
        QString name;
        QString a, b;
        bool differs = false;
    };
    std::vector<Row> m_rows;
    QStringList m_headers;
};

} // namespace blockscope::views
