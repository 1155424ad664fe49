#include "gatetrainmodel.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace blockscope::views {

namespace {
const char *const gateTrainModelNames[] = {"Step", "Loss", "Learning rate", "Tokens", "Seconds"};
const char *const gateTrainModelTips[] = {"Optimiser step (0-based)",
    "Training loss: 10 \u00d7 the sum over layers of the KL between the true block attention and the gate",
    "Learning rate of the step (warm-up, then cosine)", "Tokens seen so far", "Wall time so far"};

const char *const gateEvalModelNames[] = {"Step", "Held-out loss", "KL (mean)", "Recall", "Recall (static)", "Density"};
const char *const gateEvalModelTips[] = {"Step after which the gates were evaluated",
    "10 \u00d7 the sum over layers of the held-out KL: the training loss's scale",
    "Held-out KL between the true block attention and the gate, mean over layers",
    "Mean attention-mass recall at the evaluation density (0.5 by default)",
    "The same for the static pattern (sink + local window) at that density: what the gates must beat",
    "Realised tile density at the evaluation threshold (2e-3 by default)"};

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
} // namespace

GateTrainModel::GateTrainModel(QObject *parent)
    : StepRowsModel(gateTrainModelNames, gateTrainModelTips, parent)
{
}

double GateTrainModel::value(int row, int column) const
{
    const sparse::GateTrainStep *step = at(row);
    if (!step)
        return nan;
    const auto &s = *step;
    switch (column) {
    case Step: return static_cast<double>(s.step);
    case Loss: return s.loss;
    case LearningRate: return s.lr;
    case Tokens: return static_cast<double>(s.tokens);
    case Seconds: return s.seconds;
    default: return nan;
    }
}

QVariant GateTrainModel::data(const QModelIndex &index, int role) const
{
    if (!isCell(index))
        return {};
    const int column = index.column();
    return numberCell(value(index.row(), column), role, column == Step || column == Tokens);
}

GateEvalModel::GateEvalModel(QObject *parent)
    : StepRowsModel(gateEvalModelNames, gateEvalModelTips, parent)
{
}

double GateEvalModel::value(int row, int column) const
{
    const sparse::GateEvalPoint *point = at(row);
    if (!point)
        return nan;
    const auto &p = *point;
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

QVariant GateEvalModel::data(const QModelIndex &index, int role) const
{
    if (!isCell(index))
        return {};
    const int column = index.column();
    return numberCell(value(index.row(), column), role, column == Step);
}

} // namespace blockscope::views
