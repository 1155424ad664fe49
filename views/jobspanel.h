#pragma once

#include "jobrunner.h"

#include <QPointer>
#include <QWidget>

#include <map>

class QTimer;
class QVBoxLayout;
class QLabel;

namespace blockscope::views {

class JobRow;

// Every background job of a runner: running ones with a cancel button, then the most recent
// finished ones (kept so a quick job does not flash by unseen) until "Clear finished".
class JobsPanel : public QWidget
{
    Q_OBJECT
public:
    explicit JobsPanel(QWidget *parent = nullptr);

    void setRunner(JobRunner *runner);
    JobRow *row(JobId id) const;
    int rowCount() const { return static_cast<int>(m_rows.size()); }
    void clearFinished();

    static constexpr int maxFinishedRows = 8;

private:
    void addJob(JobId id, const QString &title);
    void jobFinished(JobId id, JobOutcome outcome, const QString &message);
    void trimFinished();
    void updatePlaceholder();

    QPointer<JobRunner> m_runner;
    std::map<JobId, JobRow *> m_rows;
    QVBoxLayout *m_list;
    QLabel *m_placeholder;
    QTimer *m_clock;
};

} // namespace blockscope::views
