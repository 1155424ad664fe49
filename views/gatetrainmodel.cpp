#include "gatetrainmodel.h"

#include "columnheader.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace blockscope::views {

namespace {
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

QVariant numberData(double v, int role, bool integral)
{
    if (role == Qt::UserRole + 1)
        return v;
    if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
        if (std::isnan(v))
            return {};
        if (role == Qt::ToolTipRole)
            return QString::number(v, 'g', 17);
        return integral ? QVariant(static_cast<qlonglong>(v)) : QVariant(v);
    }
    if (role == Qt::TextAlignmentRole)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}
} // namespace

GateTrainModel::GateTrainModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void GateTrainModel::appendStep(sparse::GateTrainStep step)
{
    const auto from = std::find_if(
        m_steps.begin(), m_steps.end(), [&](const sparse::GateTrainStep &s) { return s.step >= step.step; });
    if (from != m_steps.end()) {
        const int first = static_cast<int>(from - m_steps.begin());
        beginRemoveRows({}, first, rowCount() - 1);
        m_steps.erase(from, m_steps.end());
        endRemoveRows();
    }
    const int row = rowCount();
    beginInsertRows({}, row, row);
    m_steps.push_back(std::move(step));
    endInsertRows();
}

void GateTrainModel::clear()
{
    beginResetModel();
    m_steps.clear();
    endResetModel();
}

double GateTrainModel::value(int row, int column) const
{
    if (row < 0 || row >= rowCount())
        return nan;
    const auto &s = m_steps[static_cast<std::size_t>(row)];
    switch (column) {
    case Step: return static_cast<double>(s.step);
    case Loss: return s.loss;
    case LearningRate: return s.lr;
    case Tokens: return static_cast<double>(s.tokens);
    case Seconds: return s.seconds;
    default: return nan;
    }
}

int GateTrainModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_steps.size());
}

int GateTrainModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant GateTrainModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const int column = index.column();
    return numberData(value(index.row(), column), role, column == Step || column == Tokens);
}

QVariant GateTrainModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    static const char *const names[] = {"Step", "Loss", "Learning rate", "Tokens", "Seconds"};
    static const char *const tips[] = {"Optimiser step (0-based)",
        "Training loss: 10 \u00d7 the sum over layers of the KL between the true block attention and the gate",
        "Learning rate of the step (warm-up, then cosine)", "Tokens seen so far", "Wall time so far"};
    static_assert(std::size(names) == ColumnCount && std::size(tips) == ColumnCount);
    return columnHeader(*this, names, tips, section, orientation, role);
}

GateEvalModel::GateEvalModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void GateEvalModel::appendPoint(sparse::GateEvalPoint point)
{
    const auto from = std::find_if(
        m_points.begin(), m_points.end(), [&](const sparse::GateEvalPoint &p) { return p.step >= point.step; });
    if (from != m_points.end()) {
        const int first = static_cast<int>(from - m_points.begin());
        beginRemoveRows({}, first, rowCount() - 1);
        m_points.erase(from, m_points.end());
        endRemoveRows();
    }
    const int row = rowCount();
    beginInsertRows({}, row, row);
    m_points.push_back(std::move(point));
    endInsertRows();
}

void GateEvalModel::clear()
{
    beginResetModel();
    m_points.clear();
    endResetModel();
}

double GateEvalModel::value(int row, int column) const
{
    if (row < 0 || row >= rowCount())
        return nan;
    const auto &p = m_points[static_cast<std::size_t>(row)];
    switch (column) {
    case Step: return static_cast<double>(p.step);
    case HeldOutLoss: {
        if (p.layerKl.empty())
            return nan;
        return 10.0 * std::accumulate(p.layerKl.begin(), p.layerKl.end(), 0.0);
    }
    case Kl: return p.kl;
    case Recall: return p.recallAtDensity;
    case RecallStatic: return p.recallStaticAtDensity;
    case Density: return p.densityAtThreshold;
    default: return nan;
    }
}

int GateEvalModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_points.size());
}

int GateEvalModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant GateEvalModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const int column = index.column();
    return numberData(value(index.row(), column), role, column == Step);
}

QVariant GateEvalModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    static const char *const names[] = {"Step", "Held-out loss", "KL (mean)", "Recall", "Recall (static)", "Density"};
    static const char *const tips[] = {"Step after which the gates were evaluated",
        "10 \u00d7 the sum over layers of the held-out KL: the training loss's scale",
        "Held-out KL between the true block attention and the gate, mean over layers",
        "Mean attention-mass recall at the evaluation density (0.5 by default)",
        "The same for the static pattern (sink + local window) at that density: what the gates must beat",
        "Realised tile density at the evaluation threshold (2e-3 by default)"};
    static_assert(std::size(names) == ColumnCount && std::size(tips) == ColumnCount);
    return columnHeader(*this, names, tips, section, orientation, role);
}

} // namespace blockscope::views
