#pragma once

#include <QObject>
#include <QString>

namespace blockscope::gui {

class MainWindow;

// For `blockscope --screenshot FILE`: waits until the model is open and its statistics are done
// (or opening failed) and whatever else was asked for has arrived (an experiment file, a what-if
// result), selects an item, lets the window repaint, saves a PNG and quits the application with
// 0 (saved) or 1. Reproducible images for the documentation and for reviews.
class ScreenshotTaker : public QObject
{
    Q_OBJECT
public:
    ScreenshotTaker(MainWindow *window, QString file, QString select);

    // One more thing to wait for; arrived() says it has happened (or failed: the shot shows it).
    void expect() { ++m_pending; }
    void arrived();
    // Take the shot while jobs run (a search caught mid-step) instead of waiting for them to end.
    void setWhileJobsRun(bool on) { m_whileJobsRun = on; }

private:
    void capture();

    MainWindow *m_window;
    QString m_file;
    QString m_select;
    bool m_started = false;
    bool m_modelDone = false;
    bool m_whileJobsRun = false;
    int m_pending = 1; // the model
};

} // namespace blockscope::gui
