#include "sparsitypointmodel.h"

#include <cmath>
#include <limits>

namespace blockscope::views {

namespace {
const char *const sparsityPointModelNames[]
    = {"Rule", "Sparsity", "Tile density", "Pair density", "Perplexity", "Recall (mean)", "Recall (min)", "Empty rows"};
const char *const sparsityPointModelTips[] = {"Mask rule: top-k density or threshold",
    "1 \u2212 tile density (forced rows included), mean over layers: the chart's x axis",
    "Selected causal tiles / nb(nb+1)/2, mean over layers and heads",
    "Causal token pairs inside selected tiles / N(N+1)/2 (proportional to attention FLOPs)",
    "Perplexity of the model with block-sparse prefill attention", "Mean attention-mass recall per token",
    "Minimum attention-mass recall over tokens", "Tokens with no selected key (output 0), summed over layers"};
} // namespace

SparsityPointModel::SparsityPointModel(QObject *parent)
    : ColumnTableModel(sparsityPointModelNames, sparsityPointModelTips, parent)
{
}

void SparsityPointModel::appendResult(sparse::SparseEvalResult result)
{
    appendRow(m_results, std::move(result));
}

void SparsityPointModel::setResults(std::vector<sparse::SparseEvalResult> results)
{
    replaceRows(m_results, std::move(results));
}

double SparsityPointModel::densePerplexity() const
{
    for (const auto &r : m_results)
        if (std::isfinite(r.densePerplexity) && r.densePerplexity > 0)
            return r.densePerplexity;
    return std::numeric_limits<double>::quiet_NaN();
}

QString SparsityPointModel::ruleText(const sparse::MaskRule &rule)
{
    return QString::fromStdString(rule.describe());
}

double SparsityPointModel::value(int row, int column) const
{
    if (row < 0 || row >= rowCount())
        return std::numeric_limits<double>::quiet_NaN();
    const auto &r = m_results[static_cast<std::size_t>(row)];
    switch (column) {
    case Sparsity: return 1.0 - r.mean.tileDensity;
    case TileDensity: return r.mean.tileDensity;
    case PairDensity: return r.mean.pairDensity;
    case Perplexity: return r.perplexity;
    case RecallMean: return r.mean.recallMean;
    case RecallMin: return r.mean.recallMin;
    case EmptyRows: return static_cast<double>(r.mean.emptyRows);
    default: return std::numeric_limits<double>::quiet_NaN();
    }
}

int SparsityPointModel::rows() const
{
    return static_cast<int>(m_results.size());
}

QVariant SparsityPointModel::data(const QModelIndex &index, int role) const
{
    if (!isCell(index))
        return {};
    const int row = index.row(), column = index.column();
    if (column == Rule) {
        if (role == Qt::DisplayRole || role == Qt::ToolTipRole)
            return ruleText(m_results[static_cast<std::size_t>(row)].rule);
        return {};
    }
    return numberCell(value(row, column), role, column == EmptyRows);
}

} // namespace blockscope::views
