#pragma once

#include "sparse/sparseeval.h"

#include "columntablemodel.h"

#include <vector>

namespace blockscope::views {

// The points of one sparsity sweep (one mask source: gates, static baseline, ...), one row per
// rule, in the order they were evaluated: what the sparsity chart plots (perplexity against
// realised sparsity) and what its CSV/JSON export writes. Holds copies of the immutable results.
class SparsityPointModel : public ColumnTableModel
{
    Q_OBJECT
public:
    enum Column {
        Rule,
        Sparsity, // 1 - tile density (forced rows included): the chart's x axis
        TileDensity,
        PairDensity,
        Perplexity,
        RecallMean,
        RecallMin,
        EmptyRows,
        ColumnCount
    };

    explicit SparsityPointModel(QObject *parent = nullptr);

    void appendResult(sparse::SparseEvalResult result);
    void setResults(std::vector<sparse::SparseEvalResult> results);
    void clear() { setResults({}); }
    const std::vector<sparse::SparseEvalResult> &results() const { return m_results; }
    // The dense perplexity the sweep reported (NaN before the first point).
    double densePerplexity() const;

    double value(int row, int column) const;
    static QString ruleText(const sparse::MaskRule &rule);

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

private:
    int rows() const override;
    std::vector<sparse::SparseEvalResult> m_results;
};

} // namespace blockscope::views
