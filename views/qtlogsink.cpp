#include "qtlogsink.h"

#include <chrono>

namespace blockscope::views {

QtLogSink::QtLogSink()
    : m_relay(std::make_unique<LogRelay>())
{
}

QtLogSink::~QtLogSink() = default;

void QtLogSink::sink_it_(const spdlog::details::log_msg &msg)
{
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    // Emitting only posts events to receivers on other threads; it never blocks the logging thread.
    Q_EMIT m_relay->lineLogged(static_cast<int>(msg.level),
        QString::fromUtf8(msg.logger_name.data(), static_cast<qsizetype>(msg.logger_name.size())),
        QString::fromUtf8(msg.payload.data(), static_cast<qsizetype>(msg.payload.size())), static_cast<qint64>(ms));
}

} // namespace blockscope::views
