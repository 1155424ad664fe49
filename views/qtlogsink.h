#pragma once

#include <QObject>
#include <QString>

#include <spdlog/sinks/base_sink.h>

#include <memory>
#include <mutex>

namespace blockscope::views {

// The Qt end of the log: emitted on whichever thread logged, delivered to receivers on their own
// thread by Qt's queued connections. Lives as long as its sink.
class LogRelay : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

Q_SIGNALS:
    // level is spdlog::level::level_enum as int; time in ms since the epoch.
    void lineLogged(int level, const QString &logger, const QString &message, qint64 time);
};

// A spdlog sink that forwards every record to a LogRelay, so any thread may log and the log view
// fills on the UI thread. Add it to blockscope::log::sink() (the app does, in its log set-up).
class QtLogSink : public spdlog::sinks::base_sink<std::mutex>
{
public:
    QtLogSink();
    ~QtLogSink() override;

    LogRelay *relay() const { return m_relay.get(); }

protected:
    void sink_it_(const spdlog::details::log_msg &msg) override;
    void flush_() override { }

private:
    std::unique_ptr<LogRelay> m_relay;
};

} // namespace blockscope::views
