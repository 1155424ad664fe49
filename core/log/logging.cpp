#include "logging.h"

#include "logline.h"

#include <spdlog/sinks/dist_sink.h>
#include <spdlog/spdlog.h>

namespace blockscope::log {

std::shared_ptr<spdlog::sinks::dist_sink_mt> sink()
{
    static auto s = std::make_shared<spdlog::sinks::dist_sink_mt>();
    return s;
}

namespace {
std::shared_ptr<spdlog::logger> named(const char *name)
{
    // Registered once; later calls find it, so every part of core shares the same logger.
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    if (auto l = spdlog::get(name))
        return l;
    auto l = std::make_shared<spdlog::logger>(name, sink());
    l->set_level(spdlog::level::info);
    spdlog::register_logger(l);
    return l;
}
} // namespace

std::shared_ptr<spdlog::logger> logger(Subsystem s)
{
    // One logger per subsystem, created on first use; the order follows the Subsystem enum.
    static const std::shared_ptr<spdlog::logger> loggers[] = {
        named("model"),
        named("text"),
        named("eval"),
        named("prune"),
        named("sparse"),
        named("ppa"),
        named("store"),
        named("jobs"),
    };
    return loggers[static_cast<int>(s)];
}

void line(Subsystem s, Level level, std::string_view message)
{
    std::shared_ptr<spdlog::logger> l = logger(s);
    const auto lv = level == Level::Debug ? spdlog::level::debug
        : level == Level::Info            ? spdlog::level::info
        : level == Level::Warn            ? spdlog::level::warn
                                          : spdlog::level::err;
    l->log(lv, "{}", message);
}

} // namespace blockscope::log
