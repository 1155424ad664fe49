#pragma once

#include "chartsfwd.h"

#include <QString>
#include <QWidget>

namespace blockscope::views {

// What every chart widget of the app is: a QChart in the house style (bold title, no animation
// since points arrive live, the legend below, narrow margins) in a view that fills the widget,
// with its titles readable for tests and exports, and rescaling batched to once per pass of the
// event loop however many points arrive in it.
class ChartWidget : public QWidget
{
    Q_OBJECT
public:
    void setTitle(const QString &title);
    QString title() const;
    QString xAxisTitle() const;
    QString yAxisTitle() const;

protected:
    explicit ChartWidget(QWidget *parent = nullptr, double titleScale = 1.15);
    // The view (antialiased) that fills the widget; once the series are in.
    void showChart();
    void scheduleRescale();
    // Fits the axes to the data; the charts that follow their data override it.
    virtual void rescale() { }

    QChart *m_chart;
    QChartView *m_view = nullptr;
    bool m_rescalePending = false;
};

} // namespace blockscope::views
