#include "runsummary.h"

#include "store/experimentfile.h"
#include "tracetablemodel.h"

#include <cmath>

namespace blockscope::views {

RunSummary RunSummary::of(const RunInfo &info, const std::vector<TraceStep> &steps)
{
    RunSummary s;
    s.id = QString::fromStdString(info.id);
    s.label = QString::fromStdString(info.label);
    s.method = QString::fromStdString(pruneMethodName(info.options.method));
    s.status = QString::fromStdString(info.status);
    s.steps = static_cast<int>(steps.size());
    s.densePerplexity = info.densePerplexity;
    s.finalPerplexity = s.finalKl = TraceStep::NaN;
    if (steps.empty())
        return s;
    const TraceStep &last = steps.back();
    s.unitsRemoved = last.mask.skippedUnits();
    s.removed = last.removedSoFar.empty() ? QString::fromStdString(last.mask.describe())
                                          : TraceTableModel::unitsText(last.removedSoFar);
    // The last step with an evaluation (EvoPress may evaluate only some generations).
    for (auto it = steps.rbegin(); it != steps.rend(); ++it)
        if (!std::isnan(it->perplexity)) {
            s.finalPerplexity = it->perplexity;
            s.finalKl = it->klToDense;
            break;
        }
    return s;
}

QString RunSummary::seriesName() const
{
    QString name
        = id.isEmpty() ? QStringLiteral("%1 (%2)").arg(method, status) : QStringLiteral("%1 %2").arg(id, method);
    if (!label.isEmpty())
        name += QStringLiteral(" \u00b7 ") + label;
    return name;
}

} // namespace blockscope::views
