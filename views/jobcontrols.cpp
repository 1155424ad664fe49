#include "jobcontrols.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

namespace blockscope::views {

JobControls::JobControls(JobRunner *runner, const QString &runText, const Names &names, QWidget *parent)
    : QWidget(parent)
    , m_runner(runner)
    , m_run(new QPushButton(runText, this))
    , m_cancel(new QPushButton(tr("Cancel"), this))
    , m_progress(new QProgressBar(this))
    , m_status(new QLabel(this))
{
    m_run->setObjectName(names.run);
    m_cancel->setObjectName(names.cancel);
    m_status->setObjectName(names.status);
    m_progress->setRange(0, 1000);
    m_progress->setTextVisible(false);
    m_progress->setMaximumHeight(8);
    m_progress->setVisible(false);
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_cancel->setEnabled(false);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_run, 1);
    buttons->addWidget(m_cancel, 1);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(buttons);
    layout->addWidget(m_progress);
    layout->addWidget(m_status);
    connect(m_runner, &JobRunner::jobProgress, this, [this](JobId id, double fraction) {
        if (id == m_job && m_job != 0)
            m_progress->setValue(static_cast<int>(fraction * 1000));
    });
    connect(m_runner, &JobRunner::jobStage, this, [this](JobId id, const QString &text) {
        if (id == m_job && m_job != 0)
            Q_EMIT stage(text);
    });
    connect(m_runner, &JobRunner::jobFinished, this, [this](JobId id, JobOutcome outcome, const QString &) {
        if (id == m_job && m_job != 0 && (outcome == JobOutcome::Cancelled || outcome == JobOutcome::Superseded))
            Q_EMIT stopped();
    });
}

void JobControls::follow(JobId job)
{
    m_job = job;
    m_progress->setValue(0);
}

bool JobControls::isRunning() const
{
    return m_job != 0 && m_runner->isRunning(m_job);
}

void JobControls::cancel()
{
    if (!isRunning())
        return;
    m_runner->cancel(m_job);
    setStatus(tr("Cancelling\u2026"));
}

bool JobControls::release()
{
    if (m_job == 0)
        return false;
    m_job = 0;
    return true;
}

void JobControls::refresh(bool runnable)
{
    const bool running = isRunning();
    m_run->setEnabled(!running && runnable);
    m_cancel->setEnabled(running);
    m_progress->setVisible(running);
}

void JobControls::setStatus(const QString &text)
{
    m_status->setText(text);
}

QString JobControls::status() const
{
    return m_status->text();
}

} // namespace blockscope::views
