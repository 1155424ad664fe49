#include "messagebanner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>

namespace blockscope::views {

MessageBanner::MessageBanner(QWidget *parent)
    : QFrame(parent)
    , m_label(new QLabel(this))
    , m_close(new QToolButton(this))
{
    setObjectName(QStringLiteral("messageBanner"));
    m_label->setObjectName(QStringLiteral("messageText"));
    m_label->setWordWrap(true);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_close->setText(QStringLiteral("\u2715"));
    m_close->setAutoRaise(true);
    m_close->setToolTip(tr("Dismiss"));
    connect(m_close, &QToolButton::clicked, this, &QWidget::hide);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 4, 4);
    layout->addWidget(m_label, 1);
    layout->addWidget(m_close, 0, Qt::AlignTop);
    hide();
}

void MessageBanner::showMessage(Kind kind, const QString &text)
{
    m_kind = kind;
    m_label->setText(text);
    // Background, border, text: light tints that read on light and dark palettes alike.
    const char *const colours[][3] = {
        {"#fdecea", "#e57373", "#611a15"}, // Error
        {"#fff4e5", "#ffb74d", "#663c00"}, // Warning
        {"#e8f4fd", "#64b5f6", "#0d3c61"}, // Info
    };
    const auto &c = colours[static_cast<int>(kind)];
    setStyleSheet(
        QStringLiteral("#messageBanner { background:%1; border:1px solid %2; border-radius:3px; }"
                       " #messageBanner QLabel, #messageBanner QToolButton { color:%3; background:transparent; }")
            .arg(QLatin1String(c[0]), QLatin1String(c[1]), QLatin1String(c[2])));
    show();
}

QString MessageBanner::text() const
{
    return m_label->text();
}

} // namespace blockscope::views
