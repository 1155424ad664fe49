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
}

void JobControls::follow(JobId job)
{
    m_job = job;
    m_progress->setValue(0);
}

void JobControls::refresh(bool running, bool runnable)
{
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
