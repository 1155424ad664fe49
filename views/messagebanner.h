#pragma once

#include <QFrame>

class QLabel;
class QToolButton;

namespace blockscope::views {

// An inline message strip above the main content, used instead of modal dialogs so errors do not
// block the window (and tests and screenshots can see them).
class MessageBanner : public QFrame
{
    Q_OBJECT
public:
    enum class Kind { Error, Warning, Info };

    explicit MessageBanner(QWidget *parent = nullptr);

    void showMessage(Kind kind, const QString &text);
    QString text() const;
    Kind kind() const { return m_kind; }

private:
    Kind m_kind = Kind::Info;
    QLabel *m_label;
    QToolButton *m_close;
};

} // namespace blockscope::views
