#pragma once

#include <QString>

#include <spdlog/logger.h>

#include <memory>

namespace spdlog::sinks {
class sink;
}

namespace blockscope::views {
class LogRelay;
class QtLogSink;
} // namespace blockscope::views

namespace blockscope::gui {

// Where the application's log goes: the console, a rotating file under
// QStandardPaths::AppLocalDataLocation, and the in-app log view. Installs its sinks on core's
// distributing sink and removes them again when destroyed (before QApplication goes away, so the
// Qt sink never outlives the event loop it posts to).
class LogSetup
{
public:
    LogSetup();
    ~LogSetup();
    LogSetup(const LogSetup &) = delete;
    LogSetup &operator=(const LogSetup &) = delete;

    views::LogRelay *relay() const;
    QString logFile() const { return m_logFile; }

private:
    std::shared_ptr<spdlog::sinks::sink> m_console;
    std::shared_ptr<spdlog::sinks::sink> m_file;
    std::shared_ptr<views::QtLogSink> m_qt;
    QString m_logFile;
};

// The application's own logger ("app"), writing to core's distributing sink like the core loggers.
std::shared_ptr<spdlog::logger> appLog();

} // namespace blockscope::gui
