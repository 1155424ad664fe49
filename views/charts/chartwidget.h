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
    // A logarithmic y axis, for the charts that offer one (where the metric is positive).
    void setLogScale(bool log);
    bool logScale() const { return m_log; }

protected:
    explicit ChartWidget(QWidget *parent = nullptr, double titleScale = 1.15);
    // The view (antialiased) that fills the widget; once the series are in.
    void showChart();
    void scheduleRescale();
    // Fits the axes to the data; the charts that follow their data override it.
    virtual void rescale() { }
    // Builds the axes for the series shown (the charts with axes of their own override it).
    virtual void attachAxes() { }
    // Redraws after setLogScale changed the scale: new axes by default.
    virtual void applyLogScale() { attachAxes(); }

    QChart *m_chart;
    QChartView *m_view = nullptr;
    bool m_rescalePending = false;
    bool m_log = false;
};

} // namespace blockscope::views
