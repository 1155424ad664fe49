#pragma once

#include "jobrunner.h"

#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;

namespace blockscope::views {

// What every page that runs a long job shows under its form: Run and Cancel side by side, a thin
// progress bar while the job runs (filled from the runner's progress of the job it follows) and a
// selectable status line. The page decides what Run and Cancel do and what the status says; the
// strip holds the job the page runs, so every page asks it whether that job still runs.
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

    // The job whose progress fills the bar and whose stages and stop reach the page (0: none); the
    // bar starts empty.
    void follow(JobId job);
    JobId job() const { return m_job; }
    // Whether the followed job is still queued or running.
    bool isRunning() const;
    // Asks the followed job to stop and says so in the status line (nothing when none runs).
    void cancel();
    // Forgets the followed job once the page has ended its run; false when there was none (the
    // page already ended it: a late callback of a superseded job).
    bool release();
    // Run is enabled when nothing runs and `runnable`; Cancel and the bar while a job runs.
    void refresh(bool runnable);

    void setStatus(const QString &text);
    QString status() const;

Q_SIGNALS:
    // The followed job entered a stage.
    void stage(const QString &stage);
    // The followed job was cancelled or superseded (finished and failed jobs reach the page
    // through their own callbacks).
    void stopped();

private:
    JobRunner *m_runner;
    QPushButton *m_run;
    QPushButton *m_cancel;
    QProgressBar *m_progress;
    QLabel *m_status;
    JobId m_job = 0;
};

} // namespace blockscope::views
