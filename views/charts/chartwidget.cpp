#include "chartwidget.h"

#include "chartaxes.h"

#include <QChart>
#include <QChartView>
#include <QLegend>
#include <QTimer>
#include <QVBoxLayout>

namespace blockscope::views {

ChartWidget::ChartWidget(QWidget *parent, double titleScale)
    : QWidget(parent)
    , m_chart(new QChart)
{
    QFont titleFont = m_chart->titleFont();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * titleScale);
    m_chart->setTitleFont(titleFont);
    m_chart->setAnimationOptions(QChart::NoAnimation);
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    m_chart->setMargins(QMargins(4, 4, 4, 4));
}

void ChartWidget::showChart()
{
    m_view = new QChartView(m_chart, this);
    m_view->setRenderHint(QPainter::Antialiasing);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_view);
}

void ChartWidget::scheduleRescale()
{
    if (m_rescalePending)
        return;
    m_rescalePending = true;
    QTimer::singleShot(0, this, [this] {
        m_rescalePending = false;
        rescale();
    });
}

void ChartWidget::setTitle(const QString &title)
{
    m_chart->setTitle(title);
}

QString ChartWidget::title() const
{
    return m_chart->title();
}

QString ChartWidget::xAxisTitle() const
{
    return axisTitle(m_chart, Qt::Horizontal);
}

QString ChartWidget::yAxisTitle() const
{
    return axisTitle(m_chart, Qt::Vertical);
}

void ChartWidget::setLogScale(bool log)
{
    if (log == m_log)
        return;
    m_log = log;
    applyLogScale();
}

} // namespace blockscope::views
