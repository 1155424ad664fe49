#pragma once

#include <algorithm>
#include <optional>

namespace blockscope {

// The time a job has left, from the rate of its progress since its first progress report: what a
// job does before it reports any (opening the model, tokenizing, building caches) is not work the
// fraction measures, so counting it would make every estimate too long. The jobs panel and the
// CLI's progress bar both use it.
class RemainingTime
{
public:
    // `seconds` since the job started; `fraction` done, from 0 to 1.
    void update(double seconds, double fraction)
    {
        fraction = std::clamp(fraction, 0.0, 1.0);
        if (!m_started && fraction > 0) {
            m_started = true;
            m_firstSeconds = seconds;
            m_firstFraction = fraction;
        }
        m_fraction = fraction;
    }

    // Seconds left at `seconds`; none until at least a second and half a percent of progress
    // have passed since the first report, when the estimate starts to mean something.
    std::optional<double> estimate(double seconds) const
    {
        if (!m_started)
            return std::nullopt;
        const double spent = seconds - m_firstSeconds, moved = m_fraction - m_firstFraction;
        if (spent < 1.0 || moved < 0.005)
            return std::nullopt;
        return spent * (1.0 - m_fraction) / moved;
    }

private:
    bool m_started = false;
    double m_firstSeconds = 0, m_firstFraction = 0, m_fraction = 0;
};

} // namespace blockscope
