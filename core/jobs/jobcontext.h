#pragma once

#include <chrono>
#include <functional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>

namespace blockscope {

// Thrown by JobContext::checkpoint() once the job has been asked to stop; the runner catches it.
class JobCancelled : public std::runtime_error
{
public:
    JobCancelled()
        : std::runtime_error("cancelled")
    {
    }
};

// What long-running core work gets: a stop token, named stages and a progress callback.
// Loops call checkpoint() at chunk boundaries (chunks sized so that a cancel answers within a
// second). Callbacks run on the worker thread; the caller marshals them where it needs them.
class JobContext
{
public:
    using StageCallback = std::function<void(std::string_view stage)>;
    using ProgressCallback = std::function<void(double fraction)>;

    JobContext() = default;
    JobContext(std::stop_token stop, StageCallback onStage = {}, ProgressCallback onProgress = {})
        : m_stop(std::move(stop))
        , m_onStage(std::move(onStage))
        , m_onProgress(std::move(onProgress))
    {
    }

    bool stopRequested() const { return m_stop.stop_requested(); }
    void checkpoint() const
    {
        if (m_stop.stop_requested())
            throw JobCancelled();
    }

    void stage(std::string_view name) const
    {
        if (m_onStage)
            m_onStage(name);
    }

    // Reports done/total, rate-limited so that tight loops can call it freely.
    void progress(double done, double total)
    {
        if (!m_onProgress || total <= 0)
            return;
        const auto now = std::chrono::steady_clock::now();
        if (done < total && now - m_lastReport < std::chrono::milliseconds(50))
            return;
        m_lastReport = now;
        m_onProgress(done / total);
    }

    const std::stop_token &stopToken() const { return m_stop; }

private:
    std::stop_token m_stop;
    StageCallback m_onStage;
    ProgressCallback m_onProgress;
    std::chrono::steady_clock::time_point m_lastReport{};
};

} // namespace blockscope
