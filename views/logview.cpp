#include "logview.h"

#include "qtlogsink.h"

#include <QDateTime>
#include <QFontDatabase>

#include <spdlog/common.h>

namespace blockscope::views {

LogView::LogView(QWidget *parent)
    : QPlainTextEdit(parent)
{
    setReadOnly(true);
    setMaximumBlockCount(maxLines);
    setLineWrapMode(QPlainTextEdit::WidgetWidth); // error messages with paths are long
    setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    setPlaceholderText(tr("Log messages appear here."));
}

void LogView::follow(LogRelay *relay)
{
    connect(relay, &LogRelay::lineLogged, this, &LogView::appendLine, Qt::QueuedConnection);
}

void LogView::appendLine(int level, const QString &logger, const QString &message, qint64 time)
{
    const auto lv = static_cast<spdlog::level::level_enum>(level);
    const auto name = spdlog::level::to_string_view(lv);
    const QString stamp = QDateTime::fromMSecsSinceEpoch(time).toString(QStringLiteral("HH:mm:ss.zzz"));
    const QString line
        = QStringLiteral("%1 [%2] %3: %4")
              .arg(stamp, logger, QString::fromUtf8(name.data(), static_cast<qsizetype>(name.size())), message);
    QString colour;
    if (lv >= spdlog::level::err)
        colour = QStringLiteral("#c62828");
    else if (lv == spdlog::level::warn)
        colour = QStringLiteral("#b26a00");
    else if (lv <= spdlog::level::debug)
        colour = QStringLiteral("#777777");
    if (colour.isEmpty())
        appendPlainText(line);
    else
        appendHtml(QStringLiteral("<span style='color:%1'>%2</span>").arg(colour, line.toHtmlEscaped()));
}

} // namespace blockscope::views
