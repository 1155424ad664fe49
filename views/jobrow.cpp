#include "jobrow.h"

#include "format.h"

#include <algorithm>

#include <QGridLayout>
#include <QIcon>
#include <QLabel>
#include <QProgressBar>
#include <QToolButton>

namespace blockscope::views {

JobRow::JobRow(JobId id, const QString &title, QWidget *parent)
    : QWidget(parent)
    , m_id(id)
    , m_title(new QLabel(title, this))
    , m_stage(new QLabel(tr("starting"), this))
    , m_ranks(new QLabel(this))
    , m_times(new QLabel(this))
    , m_bar(new QProgressBar(this))
    , m_cancel(new QToolButton(this))
{
    m_clock.start();
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    m_stage->setObjectName(QStringLiteral("stage"));
    // A long stage or error text is clipped (full text in the tooltip) rather than widening the panel.
    m_stage->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_ranks->setObjectName(QStringLiteral("ranks"));
    m_ranks->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_ranks->hide();
    m_times->setObjectName(QStringLiteral("times"));
    // Ten thousand steps so that slow jobs still move the bar visibly.
    m_bar->setRange(0, 10000);
    m_bar->setValue(0);
    m_bar->setTextVisible(true);
    m_bar->setFormat(QStringLiteral("0 %"));
    m_cancel->setObjectName(QStringLiteral("cancel"));
    m_cancel->setText(tr("Cancel"));
    m_cancel->setToolTip(tr("Stop this job"));
    m_cancel->setIcon(QIcon::fromTheme(QStringLiteral("process-stop")));
    m_cancel->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    connect(m_cancel, &QToolButton::clicked, this, [this] {
        m_cancel->setEnabled(false);
        m_stage->setText(tr("cancelling\u2026"));
        Q_EMIT cancelRequested(m_id);
    });

    auto *layout = new QGridLayout(this);
    layout->setContentsMargins(4, 2, 4, 2);
    layout->addWidget(m_title, 0, 0);
    layout->addWidget(m_stage, 0, 1);
    layout->addWidget(m_times, 0, 2, Qt::AlignRight);
    layout->addWidget(m_bar, 1, 0, 1, 3);
    layout->addWidget(m_ranks, 2, 0, 1, 3);
    layout->addWidget(m_cancel, 0, 3, 2, 1);
    layout->setColumnStretch(1, 1);
    updateTimes();
}

void JobRow::setStage(const QString &stage)
{
    if (!m_running || !m_cancel->isEnabled())
        return;
    const qsizetype lines = stage.count(QLatin1Char('\n')) + 1;
    if (lines == 1) {
        m_stage->setText(stage);
        m_ranks->hide();
        return;
    }
    m_stage->setText(tr("%1 ranks").arg(lines));
    m_ranks->setText(stage);
    m_ranks->setToolTip(stage);
    m_ranks->show();
}

void JobRow::setProgress(double fraction)
{
    m_fraction = std::clamp(fraction, 0.0, 1.0);
    m_remaining.update(m_clock.elapsed() / 1000.0, m_fraction);
    m_bar->setValue(static_cast<int>(m_fraction * 10000));
    m_bar->setFormat(QStringLiteral("%1 %").arg(static_cast<int>(m_fraction * 100)));
    updateTimes();
}

void JobRow::setFinished(JobOutcome outcome, const QString &message)
{
    m_running = false;
    m_cancel->setEnabled(false);
    m_cancel->hide();
    m_ranks->hide();
    switch (outcome) {
    case JobOutcome::Finished:
        m_stage->setText(tr("done"));
        setProgress(1.0);
        break;
    case JobOutcome::Cancelled: m_stage->setText(tr("cancelled")); break;
    case JobOutcome::Superseded: m_stage->setText(tr("replaced by a newer request")); break;
    case JobOutcome::Failed:
        m_stage->setText(tr("failed: %1").arg(message.section(QLatin1Char('\n'), 0, 0)));
        m_stage->setToolTip(message);
        break;
    }
    m_times->setText(tr("took %1").arg(formatDuration(m_clock.elapsed() / 1000.0)));
}

void JobRow::updateTimes()
{
    if (!m_running)
        return;
    const double elapsed = m_clock.elapsed() / 1000.0;
    QString text = tr("%1 elapsed").arg(formatDuration(elapsed));
    if (const auto left = m_remaining.estimate(elapsed))
        text += tr(", ~%1 left").arg(formatDuration(*left));
    m_times->setText(text);
}

} // namespace blockscope::views
