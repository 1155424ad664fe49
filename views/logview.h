#pragma once

#include <QPlainTextEdit>

namespace blockscope::views {

class LogRelay;

// The in-app log: one line per record, warnings and errors coloured, capped in length so a chatty
// job cannot grow memory without bound.
class LogView : public QPlainTextEdit
{
    Q_OBJECT
public:
    explicit LogView(QWidget *parent = nullptr);

    // Queued connection: the relay may emit from any thread.
    void follow(LogRelay *relay);

    static constexpr int maxLines = 5000;

public Q_SLOTS:
    void appendLine(int level, const QString &logger, const QString &message, qint64 time);
};

} // namespace blockscope::views
