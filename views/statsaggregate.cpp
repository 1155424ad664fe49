#include "statsaggregate.h"

#include <cmath>

namespace blockscope::views {

std::optional<TensorStats> combineStats(const std::vector<const TensorStats *> &parts)
{
    if (parts.empty())
        return std::nullopt;
    TensorStats out;
    double finiteTotal = 0, weightedMean = 0, sumSquares = 0, zeros = 0;
    double mn = INFINITY, mx = -INFINITY;
    for (const TensorStats *s : parts) {
        if (!s)
            return std::nullopt;
        const double finite = static_cast<double>(s->count - s->nanCount - s->infCount);
        out.count += s->count;
        out.nanCount += s->nanCount;
        out.infCount += s->infCount;
        zeros += s->zeroFraction * static_cast<double>(s->count);
        sumSquares += s->l2 * s->l2;
        if (finite > 0) {
            finiteTotal += finite;
            weightedMean += finite * s->mean;
            mn = std::min(mn, s->min);
            mx = std::max(mx, s->max);
        }
    }
    out.l2 = std::sqrt(sumSquares);
    out.zeroFraction = out.count ? zeros / static_cast<double>(out.count) : 0;
    if (finiteTotal > 0) {
        out.mean = weightedMean / finiteTotal;
        // Pooled second moment: each part's variance plus the spread of its mean around the total.
        double m2 = 0;
        for (const TensorStats *s : parts) {
            const double finite = static_cast<double>(s->count - s->nanCount - s->infCount);
            if (finite > 0) {
                const double d = s->mean - out.mean;
                m2 += finite * (s->std * s->std + d * d);
            }
        }
        out.std = std::sqrt(m2 / finiteTotal);
        out.min = mn;
        out.max = mx;
    }
    return out;
}

} // namespace blockscope::views
