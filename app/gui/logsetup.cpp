#include "logsetup.h"

#include "log/logging.h"
#include "qtlogsink.h"

#include <QDir>
#include <QStandardPaths>

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace blockscope::gui {

namespace {
constexpr std::size_t maxFileBytes = 5 * 1024 * 1024;
constexpr std::size_t keptFiles = 3;
} // namespace

LogSetup::LogSetup()
    : m_console(std::make_shared<spdlog::sinks::stderr_color_sink_mt>())
    , m_qt(std::make_shared<views::QtLogSink>())
{
    m_console->set_level(spdlog::level::info);
    log::sink()->add_sink(m_console);

    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation);
    if (!dir.isEmpty() && QDir().mkpath(dir)) {
        m_logFile = QDir(dir).filePath(QStringLiteral("blockscope.log"));
        try {
            m_file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
                m_logFile.toStdString(), maxFileBytes, keptFiles);
            m_file->set_level(spdlog::level::debug);
            log::sink()->add_sink(m_file);
        } catch (const spdlog::spdlog_ex &e) {
            // A read-only home must not stop the application; the console and the view still log.
            m_logFile.clear();
            log::logger(log::Subsystem::Jobs)->warn("no log file: {}", e.what());
        }
    }
    log::sink()->add_sink(m_qt);
    log::sink()->set_level(spdlog::level::debug);
}

LogSetup::~LogSetup()
{
    log::sink()->remove_sink(m_qt);
    if (m_file)
        log::sink()->remove_sink(m_file);
    log::sink()->remove_sink(m_console);
}

views::LogRelay *LogSetup::relay() const
{
    return m_qt->relay();
}

std::shared_ptr<spdlog::logger> appLog()
{
    static const auto logger = [] {
        if (auto existing = spdlog::get("app"))
            return existing;
        auto l = std::make_shared<spdlog::logger>("app", log::sink());
        l->set_level(spdlog::level::debug);
        spdlog::register_logger(l);
        return l;
    }();
    return logger;
}

} // namespace blockscope::gui
