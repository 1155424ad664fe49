#pragma once

#include "jobrunner.h"

#include "jobs/remainingtime.h"

#include <QElapsedTimer>
#include <QWidget>

class QLabel;
class QProgressBar;
class QToolButton;

namespace blockscope::views {

// One job in the jobs panel: title, stage, progress, elapsed and remaining time, cancel.
class JobRow : public QWidget
{
    Q_OBJECT
public:
    JobRow(JobId id, const QString &title, QWidget *parent = nullptr);

    JobId id() const { return m_id; }
    bool isRunning() const { return m_running; }
    // A stage of several lines (a job of several processes, one line a rank: "rank 1 · …  45%")
    // shows them under the bar, one a line.
    void setStage(const QString &stage);
    void setProgress(double fraction);
    void setFinished(JobOutcome outcome, const QString &message);
    // Re-reads the clock; the panel calls it on a timer so time moves even without progress.
    void updateTimes();

Q_SIGNALS:
    void cancelRequested(blockscope::views::JobId id);

private:
    JobId m_id;
    bool m_running = true;
    double m_fraction = 0;
    RemainingTime m_remaining;
    QElapsedTimer m_clock;
    QLabel *m_title;
    QLabel *m_stage;
    QLabel *m_ranks; // a job of several processes: one line a rank, under the bar
    QLabel *m_times;
    QProgressBar *m_bar;
    QToolButton *m_cancel;
};

} // namespace blockscope::views
