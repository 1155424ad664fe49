#include "progressbar.h"

#include "ranks.h"

#include <cstdio>
#include <unistd.h>

namespace blockscope::cli {

ProgressBar::ProgressBar()
    : m_enabled(::isatty(STDERR_FILENO))
    , m_lines(reportsProgressAsLines())
    , m_start(std::chrono::steady_clock::now())
{
}

ProgressBar::~ProgressBar()
{
    finish();
}

void ProgressBar::setStage(std::string_view stage)
{
    const bool changed = m_stage != stage;
    m_stage = stage;
    if (changed)
        m_lastLine = {};
    draw();
}

void ProgressBar::update(double fraction)
{
    m_fraction = fraction;
    m_remaining.update(std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count(), fraction);
    draw();
}

void ProgressBar::draw()
{
    if (m_lines) {
        const auto now = std::chrono::steady_clock::now();
        if (now - m_lastLine < std::chrono::milliseconds(200))
            return;
        m_lastLine = now;
        std::fprintf(stderr, "@progress %.4f %s\n", m_fraction, m_stage.c_str());
        std::fflush(stderr);
        return;
    }
    if (!m_enabled)
        return;
    constexpr int width = 30;
    const int filled = static_cast<int>(m_fraction * width + 0.5);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
    const double remaining = m_remaining.estimate(elapsed).value_or(-1);
    std::string bar(filled, '#');
    bar.resize(width, '.');
    if (remaining >= 0)
        std::fprintf(
            stderr, "\r%-44.44s [%s] %5.1f%%  %.0fs left ", m_stage.c_str(), bar.c_str(), 100 * m_fraction, remaining);
    else
        std::fprintf(stderr, "\r%-44.44s [%s] %5.1f%%          ", m_stage.c_str(), bar.c_str(), 100 * m_fraction);
    std::fflush(stderr);
    m_drawn = true;
}

void ProgressBar::finish()
{
    if (m_enabled && m_drawn) {
        std::fprintf(stderr, "\r%*s\r", 100, "");
        std::fflush(stderr);
        m_drawn = false;
    }
}

} // namespace blockscope::cli
