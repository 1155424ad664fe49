#pragma once

#include "chartwidget.h"

#include "ppapointmodel.h"

#include <QList>
#include <QPointF>
#include <QString>

#include <vector>

namespace blockscope::views {

class ChartValueProxy;
class MetricFilterProxy;

// Quality (perplexity or KL to dense) against one PPA axis (../shared/specs/ppa.md, "Plots"): per
// run, the measured points (filled, joined in step order) and the modelled ones (hollow, dashed)
// from the roofline of the chosen device (this machine, calibrated, unless setModelledDevice names
// another), so measured and modelled sit side by side with their gap; the Pareto frontier of the
// measured points (of the modelled ones when nothing was measured) as a band under them; the dense
// model as a labelled star. Axis titles and legend entries say what is measured and what is
// modelled; hovering a point shows its configuration and every figure with its provenance.
// Each series is fed from its run's PpaPointModel through filter proxies (finite x and y) and a
// QVXYModelMapper. Qt Charts stays behind this QWidget.
class PpaChart : public ChartWidget
{
    Q_OBJECT
public:
    enum class Source { Measured, Modelled };
    enum class Shown { Both, MeasuredOnly, ModelledOnly };

    explicit PpaChart(QWidget *parent = nullptr);
    ~PpaChart() override;

    // Adds the series of `points` (which must outlive them or be removed first); returns the run's number.
    int addRun(PpaPointModel *points, const QString &name);
    void clearRuns();
    int runCount() const { return static_cast<int>(m_runs.size()); }
    PpaPointModel *runModel(int run) const;

    void setAxis(PpaAxis axis);
    PpaAxis axis() const { return m_axis; }
    void setQuality(PpaQuality quality);
    PpaQuality quality() const { return m_quality; }
    void setShown(Shown shown);
    Shown shown() const { return m_shown; }
    // The device whose roofline supplies the modelled points of every run; empty: this machine.
    void setModelledDevice(const QString &device);
    QString modelledDevice() const { return m_device; }
    // A logarithmic quality axis (perplexity only; KL can be zero).
    void setLogQuality(bool log);
    bool yAxisIsLogarithmic() const;
    // The x axis turns logarithmic by itself when its values span more than two decades (a
    // datacentre GPU's roofline next to a CPU measurement).
    bool xAxisIsLogarithmic() const { return m_xLog; }

    // What is drawn, for tests and the page.
    QList<QPointF> seriesPoints(int run, Source source) const;
    QString seriesName(int run, Source source) const;
    bool seriesVisible(int run, Source source) const;
    QStringList legendNames() const; // the visible legend entries, in order
    // Below the plot while the entries fit in a row, beside it for several runs.
    Qt::Alignment legendAlignment() const;
    QList<QPointF> frontierPoints() const;
    QString frontierName() const;
    QList<QPointF> densePoints() const;
    // Whether the dense star at `index` carries its "dense" label (one per dense perplexity).
    bool denseLabelShown(int index) const;
    // The tooltip of the index-th point of a series (what hovering it shows).
    QString toolTipFor(int run, Source source, int index) const;
    // The model row of that point, or -1.
    int rowFor(int run, Source source, int index) const;

    // PNG, SVG or PDF by the suffix (title, axes and legend).
    bool exportTo(const QString &path, QString *error = nullptr);

Q_SIGNALS:
    // A point was clicked: its run and its row in the run's model.
    void pointClicked(int run, int row);

private:
    struct Series
    {
        MetricFilterProxy *xFilter = nullptr;
        MetricFilterProxy *yFilter = nullptr;
        ChartValueProxy *values = nullptr;
        QLineSeries *line = nullptr;
        QScatterSeries *dots = nullptr;
        QVXYModelMapper *lineMapper = nullptr;
        QVXYModelMapper *dotMapper = nullptr;
    };
    struct Run
    {
        PpaPointModel *points = nullptr;
        QString name;
        Series measured, modelled;
    };

    void createSeries(Run &run, Series &s, Source source, const QColor &colour);
    void destroySeries(Series &s);
    const Series &seriesOf(int run, Source source) const;
    int xColumn(Source source) const;
    bool sourceActive(Source source) const;
    Source primarySource() const;
    void configureSeries();
    void attachAxes() override;
    void scheduleRefresh();
    void refresh();
    void rescale() override;
    void hovered(int run, Source source, const QPointF &point, bool state);
    void clicked(int run, Source source, const QPointF &point);

    QLineSeries *m_frontier;
    QScatterSeries *m_dense;
    std::vector<Run> m_runs;
    PpaAxis m_axis = PpaAxis::PrefillThroughput;
    PpaQuality m_quality = PpaQuality::Perplexity;
    Shown m_shown = Shown::Both;
    QString m_device;
    bool m_logQuality = false;
    bool m_xLog = false;
    bool m_refreshPending = false;
    QString m_frontierSource;
};

} // namespace blockscope::views
