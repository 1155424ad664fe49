#pragma once

#include <QObject>
#include <QString>

namespace blockscope::gui {

class MainWindow;

// For `blockscope --screenshot FILE`: waits until the model is open and its statistics are done
// (or opening failed), selects an item, lets the window repaint, saves a PNG and quits the
// application with 0 (saved) or 1. Reproducible images for the documentation and for reviews.
class ScreenshotTaker : public QObject
{
    Q_OBJECT
public:
    ScreenshotTaker(MainWindow *window, QString file, QString select);

private:
    void capture();

    MainWindow *m_window;
    QString m_file;
    QString m_select;
    bool m_started = false;
};

} // namespace blockscope::gui
