#pragma once

#include "jobs/remainingtime.h"

#include <chrono>
#include <string>
#include <string_view>

namespace blockscope::cli {

// A one-line progress bar on stderr, drawn only when stderr is a terminal so that logs and
// pipes stay clean. In a rank a launcher started (reportsProgressAsLines), "@progress FRACTION
// STAGE" lines instead, for the launcher to gather.
class ProgressBar
{
public:
    ProgressBar();
    ~ProgressBar();
    void setStage(std::string_view stage);
    void update(double fraction);
    void finish();

private:
    void draw();
    bool m_enabled;
    bool m_lines;
    bool m_drawn = false;
    std::chrono::steady_clock::time_point m_lastLine{};
    std::string m_stage;
    double m_fraction = 0;
    RemainingTime m_remaining;
    std::chrono::steady_clock::time_point m_start;
};

} // namespace blockscope::cli
