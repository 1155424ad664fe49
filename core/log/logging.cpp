#include "logging.h"

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

std::shared_ptr<spdlog::logger> model()
{
    static auto l = named("model");
    return l;
}
std::shared_ptr<spdlog::logger> text()
{
    static auto l = named("text");
    return l;
}
std::shared_ptr<spdlog::logger> eval()
{
    static auto l = named("eval");
    return l;
}
std::shared_ptr<spdlog::logger> prune()
{
    static auto l = named("prune");
    return l;
}
std::shared_ptr<spdlog::logger> sparse()
{
    static auto l = named("sparse");
    return l;
}
std::shared_ptr<spdlog::logger> ppa()
{
    static auto l = named("ppa");
    return l;
}
std::shared_ptr<spdlog::logger> store()
{
    static auto l = named("store");
    return l;
}
std::shared_ptr<spdlog::logger> jobs()
{
    static auto l = named("jobs");
    return l;
}

} // namespace blockscope::log

#include "logline.h"

namespace blockscope::log {

void line(Subsystem s, Level level, std::string_view message)
{
    std::shared_ptr<spdlog::logger> l;
    switch (s) {
    case Subsystem::Model: l = model(); break;
    case Subsystem::Text: l = text(); break;
    case Subsystem::Eval: l = eval(); break;
    case Subsystem::Prune: l = prune(); break;
    case Subsystem::Sparse: l = sparse(); break;
    case Subsystem::Ppa: l = ppa(); break;
    case Subsystem::Store: l = store(); break;
    case Subsystem::Jobs: l = jobs(); break;
    }
    const auto lv = level == Level::Debug ? spdlog::level::debug
        : level == Level::Info            ? spdlog::level::info
        : level == Level::Warn            ? spdlog::level::warn
                                          : spdlog::level::err;
    l->log(lv, "{}", message);
}

} // namespace blockscope::log
