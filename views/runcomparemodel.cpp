#include "runcomparemodel.h"

#include "format.h"
#include "runsummary.h"
#include "store/experimentfile.h"
#include "tracetablemodel.h"

#include <QFont>

#include <algorithm>
#include <cmath>

namespace blockscope::views {

namespace {
QString number(double v)
{
    return std::isnan(v) ? QStringLiteral("\u2014") : formatStat(v);
}

std::vector<Unit> finalOrder(const ExperimentRun &run)
{
    if (run.steps.empty())
        return {};
    const auto &last = run.steps.back();
    if (!last.removedSoFar.empty())
        return last.removedSoFar;
    // Without an order (EvoPress, one-shot), the final mask's units in layer order.
    std::vector<Unit> units;
    for (int l = 0; l < last.mask.layers(); ++l) {
        if (last.mask.blockSkipped(l))
            units.push_back({UnitKind::Block, l});
        else if (last.mask.skipAttn[static_cast<std::size_t>(l)])
            units.push_back({UnitKind::Attention, l});
        else if (last.mask.skipMlp[static_cast<std::size_t>(l)])
            units.push_back({UnitKind::Mlp, l});
    }
    return units;
}

// Units of `mine` whose sublayers `other`'s final mask keeps.
std::vector<Unit> onlyIn(const std::vector<Unit> &mine, const ExperimentRun &other)
{
    UnitMask theirs = other.steps.empty() ? UnitMask() : other.steps.back().mask;
    std::vector<Unit> out;
    for (const Unit &u : mine) {
        if (u.layer < 0 || u.layer >= theirs.layers()) {
            out.push_back(u);
            continue;
        }
        UnitMask covered = UnitMask::dense(theirs.layers());
        u.applyTo(covered);
        bool all = true;
        for (int l = 0; l < theirs.layers(); ++l) {
            const auto i = static_cast<std::size_t>(l);
            all = all && (!covered.skipAttn[i] || theirs.skipAttn[i]) && (!covered.skipMlp[i] || theirs.skipMlp[i]);
        }
        if (!all)
            out.push_back(u);
    }
    return out;
}
} // namespace

RunCompareModel::RunCompareModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void RunCompareModel::clear()
{
    beginResetModel();
    m_rows.clear();
    m_headers.clear();
    endResetModel();
}

void RunCompareModel::setRuns(const ExperimentRun &a, const ExperimentRun &b)
{
    beginResetModel();
    const RunSummary sa = RunSummary::of(a.info, a.steps), sb = RunSummary::of(b.info, b.steps);
    m_headers = {sa.seriesName(), sb.seriesName()};
    m_rows.clear();
    auto add = [&](const QString &name, const QString &x, const QString &y) { m_rows.push_back({name, x, y, x != y}); };
    const auto orderA = finalOrder(a), orderB = finalOrder(b);
    add(tr("Method"), sa.method, sb.method);
    add(tr("Status"), sa.status, sb.status);
    add(tr("Target"), QString::number(a.info.options.target), QString::number(b.info.options.target));
    add(tr("Units removed"), QString::number(sa.unitsRemoved), QString::number(sb.unitsRemoved));
    add(tr("Removed, in order"), TraceTableModel::unitsText(orderA), TraceTableModel::unitsText(orderB));
    const QString none = tr("none");
    auto orNone = [&](const QString &s) { return s.isEmpty() ? none : s; };
    Row only{tr("Only in this run"), orNone(TraceTableModel::unitsText(onlyIn(orderA, b))),
        orNone(TraceTableModel::unitsText(onlyIn(orderB, a))), false};
    only.differs = only.a != none || only.b != none;
    m_rows.push_back(only);
    add(tr("Final PPL"), number(sa.finalPerplexity), number(sb.finalPerplexity));
    add(tr("Final KL"), number(sa.finalKl), number(sb.finalKl));
    add(tr("Dense PPL"), number(sa.densePerplexity), number(sb.densePerplexity));
    add(tr("Steps"), QString::number(sa.steps), QString::number(sb.steps));
    auto cost = [](const ExperimentRun &r, auto field) {
        return r.steps.empty() ? QStringLiteral("\u2014")
                               : formatCount(static_cast<std::uint64_t>(r.steps.back().*field));
    };
    add(tr("Evaluations"), cost(a, &TraceStep::evaluations), cost(b, &TraceStep::evaluations));
    add(tr("Tokens"), cost(a, &TraceStep::tokens), cost(b, &TraceStep::tokens));
    auto seconds = [](const ExperimentRun &r) {
        return r.steps.empty() ? QStringLiteral("\u2014") : formatDuration(r.steps.back().seconds);
    };
    add(tr("Time"), seconds(a), seconds(b));
    add(tr("Calibration"), QString::fromStdString(a.info.calibrationProtocol.oneLine()),
        QString::fromStdString(b.info.calibrationProtocol.oneLine()));
    endResetModel();
}

int RunCompareModel::rowNamed(const QString &name) const
{
    for (std::size_t i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].name == name)
            return static_cast<int>(i);
    return -1;
}

int RunCompareModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int RunCompareModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() || m_rows.empty() ? 0 : 2;
}

QVariant RunCompareModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows[static_cast<std::size_t>(index.row())];
    switch (role) {
    case Qt::DisplayRole:
    case Qt::ToolTipRole: return index.column() == 0 ? r.a : r.b;
    case DiffersRole: return r.differs;
    case Qt::FontRole:
        if (r.differs) {
            QFont f;
            f.setBold(true);
            return f;
        }
        return {};
    default: return {};
    }
}

QVariant RunCompareModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (orientation == Qt::Horizontal)
        return section >= 0 && section < m_headers.size() ? QVariant(m_headers[section]) : QVariant();
    return section >= 0 && section < rowCount() ? QVariant(m_rows[static_cast<std::size_t>(section)].name) : QVariant();
}

} // namespace blockscope::views
