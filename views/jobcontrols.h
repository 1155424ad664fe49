#pragma once

#include "jobrunner.h"

#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;

namespace blockscope::views {

// What every page that runs a long job shows under its form: Run and Cancel side by side, a thin
// progress bar while the job runs (filled from the runner's progress of the job it follows) and a
// selectable status line. The page decides what Run and Cancel do and what the status says.
class JobControls : public QWidget
{
    Q_OBJECT
public:
    struct Names
    {
        QString run, cancel, status; // object names (tests and screenshots find the widgets by them)
    };
    JobControls(JobRunner *runner, const QString &runText, const Names &names, QWidget *parent = nullptr);

    QPushButton *runButton() const { return m_run; }
    QPushButton *cancelButton() const { return m_cancel; }
    QProgressBar *progressBar() const { return m_progress; }

    // The job whose progress fills the bar (0: none); the bar starts empty.
    void follow(JobId job);
    // Run is enabled when nothing runs and `runnable`; Cancel and the bar while a job runs.
    void refresh(bool running, bool runnable);

    void setStatus(const QString &text);
    QString status() const;

private:
    JobRunner *m_runner;
    QPushButton *m_run;
    QPushButton *m_cancel;
    QProgressBar *m_progress;
    QLabel *m_status;
    JobId m_job = 0;
};

} // namespace blockscope::views
