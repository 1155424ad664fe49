#pragma once

#include "chartwidget.h"

#include "chartexport.h"

#include <QList>
#include <QString>

#include <vector>

namespace blockscope::views {

class MetricFilterProxy;
class TraceTableModel;

// Quality against units removed, one line per run, so runs and methods compare on one chart.
// Each series is fed from its run's TraceTableModel through a filter proxy (rows with a finite
// metric) and a QVXYModelMapper: appending a step to the model grows the line. Qt Charts stays
// behind this QWidget (Qt Charts is deprecated from Qt 6.10; nothing outside views/charts/
// includes it).
class TraceChart : public ChartWidget
{
    Q_OBJECT
public:
    enum class Metric { Perplexity, KlToDense, Score };
    using Format = ChartFileFormat;

    explicit TraceChart(QWidget *parent = nullptr);
    ~TraceChart() override;

    // Adds a line for `trace` (which must outlive it or be removed first); returns its number.
    // `byGeneration`: the run's steps are EvoPress generations at a fixed count, not counts.
    int addRun(TraceTableModel *trace, const QString &name, bool byGeneration = false);
    void setRunName(int run, const QString &name);
    void removeRun(int run);
    void clearRuns();
    // Drawn thicker, the others lighter; empty: all drawn alike.
    void setHighlighted(const QList<int> &runs);

    void setMetric(Metric metric);
    Metric metric() const { return m_metric; }
    // A logarithmic y axis; applies to perplexity only (KL and scores can be zero).

    int runCount() const;
    // Live series only (removed runs leave a gap in the numbering).
    bool hasRun(int run) const;
    int pointCount(int run) const;
    QString runName(int run) const;
    bool yAxisIsLogarithmic() const;
    static QString metricName(Metric metric);

    // Writes the chart with its title, axes and legend: PNG at twice the on-screen resolution,
    // SVG (vector) or PDF (vector, one page the chart's size), chosen by `format`. A chart that
    // has not been laid out on screen yet is rendered at 960 x 600.
    bool exportTo(const QString &path, Format format, QString *error = nullptr);
    // The format for a file name's suffix (.png, .svg, .pdf); false for anything else.
    static bool formatForPath(const QString &path, Format *format);

private:
    struct Run
    {
        TraceTableModel *trace = nullptr;
        MetricFilterProxy *proxy = nullptr;
        QLineSeries *series = nullptr;
        QVXYModelMapper *mapper = nullptr;
        bool byGeneration = false;
    };
    QString xTitle() const;
    void attachAxes() override;
    void applyLogScale() override;
    void rescale() override;
    void restyle();
    int metricColumn() const;

    std::vector<Run> m_runs; // indexed by run number; removed runs have null members
    QList<int> m_highlighted;
    Metric m_metric = Metric::Perplexity;
};

} // namespace blockscope::views
