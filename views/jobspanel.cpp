#include "jobspanel.h"

#include "jobrow.h"

#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QTimer>
#include <QVBoxLayout>

namespace blockscope::views {

JobsPanel::JobsPanel(QWidget *parent)
    : QWidget(parent)
    , m_list(new QVBoxLayout)
    , m_placeholder(new QLabel(tr("No background jobs."), this))
    , m_clock(new QTimer(this))
{
    auto *content = new QWidget;
    auto *contentLayout = new QVBoxLayout(content);
    contentLayout->setContentsMargins(0, 0, 0, 0);
    contentLayout->addLayout(m_list);
    contentLayout->addWidget(m_placeholder);
    contentLayout->addStretch(1);
    m_placeholder->setStyleSheet(QStringLiteral("color: #777777"));

    auto *scroll = new QScrollArea(this);
    scroll->setWidget(content);
    scroll->setWidgetResizable(true);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll->setFrameShape(QFrame::NoFrame);

    auto *clear = new QPushButton(tr("Clear finished"), this);
    clear->setObjectName(QStringLiteral("clearFinished"));
    connect(clear, &QPushButton::clicked, this, &JobsPanel::clearFinished);
    auto *buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(clear);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addWidget(scroll, 1);
    layout->addLayout(buttons);

    // Elapsed and remaining times tick even when a job reports no progress for a while.
    m_clock->setInterval(250);
    connect(m_clock, &QTimer::timeout, this, [this] {
        for (auto &[id, row] : m_rows)
            row->updateTimes();
    });
}

void JobsPanel::setRunner(JobRunner *runner)
{
    if (m_runner)
        disconnect(m_runner, nullptr, this, nullptr);
    m_runner = runner;
    if (!runner)
        return;
    connect(runner, &JobRunner::jobStarted, this,
        [this](JobId id, const QString &, const QString &title) { addJob(id, title); });
    connect(runner, &JobRunner::jobStage, this, [this](JobId id, const QString &stage) {
        if (auto *r = row(id))
            r->setStage(stage);
    });
    connect(runner, &JobRunner::jobProgress, this, [this](JobId id, double fraction) {
        if (auto *r = row(id))
            r->setProgress(fraction);
    });
    connect(runner, &JobRunner::jobFinished, this, &JobsPanel::jobFinished);
}

JobRow *JobsPanel::row(JobId id) const
{
    auto it = m_rows.find(id);
    return it == m_rows.end() ? nullptr : it->second;
}

void JobsPanel::addJob(JobId id, const QString &title)
{
    auto *r = new JobRow(id, title, this);
    connect(r, &JobRow::cancelRequested, this, [this](JobId job) {
        if (m_runner)
            m_runner->cancel(job);
    });
    // Newest first: the job the user just started is the one they look for.
    m_list->insertWidget(0, r);
    m_rows[id] = r;
    m_clock->start();
    updatePlaceholder();
}

void JobsPanel::jobFinished(JobId id, JobOutcome outcome, const QString &message)
{
    if (auto *r = row(id))
        r->setFinished(outcome, message);
    trimFinished();
    if (m_runner && m_runner->runningCount() == 0)
        m_clock->stop();
}

void JobsPanel::trimFinished()
{
    int finished = 0;
    // Ids grow with time, so walking from the newest drops the oldest finished rows first.
    for (auto it = m_rows.rbegin(); it != m_rows.rend();) {
        if (!it->second->isRunning() && ++finished > maxFinishedRows) {
            it->second->hide();
            it->second->deleteLater();
            it = std::make_reverse_iterator(m_rows.erase(std::next(it).base()));
        } else {
            ++it;
        }
    }
    updatePlaceholder();
}

void JobsPanel::clearFinished()
{
    for (auto it = m_rows.begin(); it != m_rows.end();) {
        if (!it->second->isRunning()) {
            it->second->hide();
            it->second->deleteLater();
            it = m_rows.erase(it);
        } else {
            ++it;
        }
    }
    updatePlaceholder();
}

void JobsPanel::updatePlaceholder()
{
    m_placeholder->setVisible(m_rows.empty());
}

} // namespace blockscope::views
