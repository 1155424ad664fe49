#include "tracetablemodel.h"

#include "format.h"

#include <QStringList>

#include <cmath>

namespace blockscope::views {

namespace {
const char *const traceTableModelNames[] = {"Step", "Units removed", "Kind", "Chosen", "Score", "Perplexity",
    "KL to dense", "Evaluations", "Tokens", "Seconds"};
const char *const traceTableModelTips[] = {"Step index in the run", "Units removed after the step (the chart's x axis)",
    "Step kind: phase (SLEB), step (FinerCut), generation (EvoPress), one-shot", "Units the step removed",
    "Score of the chosen candidate (the method's own metric)",
    "Perplexity of the configuration after the step (run protocol)",
    "KL divergence to the dense model, nats per predicted token", "Candidate evaluations so far",
    "Tokens pushed through the model so far", "Wall time since the run started"};
} // namespace

TraceTableModel::TraceTableModel(QObject *parent)
    : ColumnTableModel(traceTableModelNames, traceTableModelTips, parent)
{
}

void TraceTableModel::setSteps(std::vector<TraceStep> steps, double densePerplexity)
{
    beginResetModel();
    m_steps = std::move(steps);
    m_dense = densePerplexity;
    endResetModel();
}

void TraceTableModel::appendStep(TraceStep step)
{
    const int row = rowCount();
    beginInsertRows({}, row, row);
    m_steps.push_back(std::move(step));
    endInsertRows();
}

void TraceTableModel::setDensePerplexity(double perplexity)
{
    const bool had = hasDenseRow();
    const bool has = std::isfinite(perplexity);
    if (had && has) {
        m_dense = perplexity;
        Q_EMIT dataChanged(index(0, 0), index(0, ColumnCount - 1));
    } else if (had) {
        beginRemoveRows({}, 0, 0);
        m_dense = perplexity;
        endRemoveRows();
    } else if (has) {
        beginInsertRows({}, 0, 0);
        m_dense = perplexity;
        endInsertRows();
    }
}

bool TraceTableModel::hasDenseRow() const
{
    return std::isfinite(m_dense);
}

const TraceStep *TraceTableModel::stepAt(int row) const
{
    const int i = row - (hasDenseRow() ? 1 : 0);
    if (i < 0 || i >= static_cast<int>(m_steps.size()))
        return nullptr;
    return &m_steps[static_cast<std::size_t>(i)];
}

int TraceTableModel::rows() const
{
    return static_cast<int>(m_steps.size()) + (hasDenseRow() ? 1 : 0);
}

QString TraceTableModel::unitsText(const std::vector<Unit> &units)
{
    QStringList parts;
    for (const auto &u : units)
        parts << QString::fromStdString(u.label());
    return parts.join(QStringLiteral(", "));
}

double TraceTableModel::value(int row, int column) const
{
    constexpr double nan = TraceStep::NaN;
    const TraceStep *s = stepAt(row);
    if (!s) {
        // The dense row: nothing removed, the reference itself.
        switch (column) {
        case UnitsRemoved: return 0;
        case Perplexity: return m_dense;
        case KlToDense: return 0;
        default: return nan;
        }
    }
    switch (column) {
    case Step: return s->index;
    case UnitsRemoved: return s->index + 1;
    case Score: return s->chosenScore;
    case Perplexity: return s->perplexity;
    case KlToDense: return s->klToDense;
    case Evaluations: return static_cast<double>(s->evaluations);
    case Tokens: return static_cast<double>(s->tokens);
    case Seconds: return s->seconds;
    default: return nan;
    }
}

QVariant TraceTableModel::data(const QModelIndex &index, int role) const
{
    if (!isCell(index))
        return {};
    const int row = index.row(), column = index.column();
    const TraceStep *s = stepAt(row);
    if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
        if (column == Kind)
            return s ? QString::fromStdString(s->kind) : QStringLiteral("dense");
        if (column == Chosen) {
            if (!s)
                return QVariant();
            QString text = unitsText(s->chosen);
            if (s->nearTie && role == Qt::ToolTipRole)
                text += tr(" (another candidate scored within 1e-6)");
            return text;
        }
        if (column == Step && !s)
            return role == Qt::DisplayRole ? QVariant() : QVariant(tr("the dense model"));
    }
    if (column == Kind || column == Chosen)
        return {};
    return numberCell(value(row, column), role,
        column == Step || column == UnitsRemoved || column == Evaluations || column == Tokens);
}

} // namespace blockscope::views
