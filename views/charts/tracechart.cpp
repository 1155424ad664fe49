#include "tracechart.h"
#include "chartaxes.h"

#include "metricfilterproxy.h"
#include "tracetablemodel.h"

#include <QChart>
#include <QChartView>
#include <QFont>
#include <QGraphicsLayout>
#include <QLegend>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QTimer>
#include <QVBoxLayout>
#include <QVXYModelMapper>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <limits>

namespace blockscope::views {

TraceChart::TraceChart(QWidget *parent)
    : ChartWidget(parent)
{
    setObjectName(QStringLiteral("traceChart"));
    m_chart->setTitle(tr("Pruning trace"));
    m_chart->legend()->setShowToolTips(true);
    showChart();
    attachAxes();
}

TraceChart::~TraceChart()
{
    // Mappers listen to models the caller owns; disconnect them before anything goes away.
    clearRuns();
}

QString TraceChart::metricName(Metric metric)
{
    switch (metric) {
    case Metric::Perplexity: return tr("Perplexity");
    case Metric::KlToDense: return tr("KL to dense");
    case Metric::Score: return tr("Chosen score");
    }
    return {};
}

int TraceChart::metricColumn() const
{
    switch (m_metric) {
    case Metric::Perplexity: return TraceTableModel::Perplexity;
    case Metric::KlToDense: return TraceTableModel::KlToDense;
    case Metric::Score: return TraceTableModel::Score;
    }
    return TraceTableModel::Perplexity;
}

bool TraceChart::yAxisIsLogarithmic() const
{
    return m_log && m_metric == Metric::Perplexity;
}

int TraceChart::addRun(TraceTableModel *trace, const QString &name, bool byGeneration)
{
    Run run;
    run.trace = trace;
    run.byGeneration = byGeneration;
    run.proxy = new MetricFilterProxy(this);
    run.proxy->setMetricColumn(metricColumn());
    run.proxy->setPositiveOnly(yAxisIsLogarithmic());
    run.proxy->setSourceModel(trace);
    run.series = new QLineSeries(this);
    run.series->setName(name);
    run.series->setPointsVisible(true);
    m_chart->addSeries(run.series);
    run.mapper = new QVXYModelMapper(this);
    run.mapper->setSeries(run.series);
    run.mapper->setXColumn(TraceTableModel::UnitsRemoved);
    run.mapper->setYColumn(metricColumn());
    run.mapper->setModel(run.proxy);
    for (auto signal : {&QXYSeries::pointAdded, &QXYSeries::pointRemoved, &QXYSeries::pointReplaced})
        connect(run.series, signal, this, &TraceChart::scheduleRescale);
    connect(run.series, &QXYSeries::pointsReplaced, this, &TraceChart::scheduleRescale);
    connect(run.series, &QXYSeries::pointsRemoved, this, &TraceChart::scheduleRescale);
    m_runs.push_back(run);
    // Fresh axes rather than attaching the new line to the old ones: attaching re-initialises an
    // axis from the series' default domain, which with a narrow log base means millions of ticks.
    attachAxes();
    restyle();
    return static_cast<int>(m_runs.size()) - 1;
}

void TraceChart::setRunName(int run, const QString &name)
{
    if (hasRun(run))
        m_runs[static_cast<std::size_t>(run)].series->setName(name);
}

void TraceChart::removeRun(int run)
{
    if (!hasRun(run))
        return;
    Run &r = m_runs[static_cast<std::size_t>(run)];
    r.mapper->setModel(nullptr);
    delete r.mapper;
    m_chart->removeSeries(r.series);
    delete r.series;
    delete r.proxy;
    r = Run();
    m_highlighted.removeAll(run);
    if (QAbstractAxis *x = m_chart->axes(Qt::Horizontal).value(0))
        x->setTitleText(xTitle());
    restyle();
    scheduleRescale();
}

void TraceChart::clearRuns()
{
    for (int i = 0; i < static_cast<int>(m_runs.size()); ++i)
        removeRun(i);
    m_runs.clear();
    m_highlighted.clear();
}

bool TraceChart::hasRun(int run) const
{
    return run >= 0 && run < static_cast<int>(m_runs.size()) && m_runs[static_cast<std::size_t>(run)].series;
}

int TraceChart::runCount() const
{
    return static_cast<int>(std::count_if(m_runs.begin(), m_runs.end(), [](const Run &r) { return r.series; }));
}

int TraceChart::pointCount(int run) const
{
    return hasRun(run) ? static_cast<int>(m_runs[static_cast<std::size_t>(run)].series->count()) : 0;
}

QString TraceChart::runName(int run) const
{
    return hasRun(run) ? m_runs[static_cast<std::size_t>(run)].series->name() : QString();
}

void TraceChart::setHighlighted(const QList<int> &runs)
{
    m_highlighted = runs;
    restyle();
}

void TraceChart::restyle()
{
    // Series keep the theme's colour; a highlighted line is thicker, the others fade back.
    for (int i = 0; i < static_cast<int>(m_runs.size()); ++i) {
        const Run &r = m_runs[static_cast<std::size_t>(i)];
        if (!r.series)
            continue;
        QPen pen = r.series->pen();
        QColor colour = pen.color();
        const bool faded = !m_highlighted.isEmpty() && !m_highlighted.contains(i);
        colour.setAlpha(faded ? 90 : 255);
        pen.setColor(colour);
        pen.setWidthF(m_highlighted.contains(i) ? 3.5 : 2.0);
        r.series->setPen(pen);
        r.series->setMarkerSize(m_highlighted.contains(i) ? 9 : 7);
    }
}

void TraceChart::setMetric(Metric metric)
{
    if (metric == m_metric)
        return;
    m_metric = metric;
    // The new axis first: the old one (logarithmic, say) must never see the new metric's values.
    attachAxes();
    for (Run &r : m_runs)
        if (r.series) {
            r.proxy->setPositiveOnly(yAxisIsLogarithmic());
            r.proxy->setMetricColumn(metricColumn());
            r.mapper->setYColumn(metricColumn());
        }
    rescale();
}

void TraceChart::applyLogScale()
{
    for (Run &r : m_runs)
        if (r.series)
            r.proxy->setPositiveOnly(yAxisIsLogarithmic());
    attachAxes();
}

QString TraceChart::xTitle() const
{
    // EvoPress keeps the count fixed and improves it generation by generation: its x is the
    // generation, as the axis says when such a run is drawn.
    bool generations = false, counts = false;
    for (const Run &r : m_runs)
        if (r.series)
            (r.byGeneration ? generations : counts) = true;
    if (generations && counts)
        return tr("Units removed (EvoPress: generation)");
    return generations ? tr("EvoPress generation") : tr("Units removed");
}

void TraceChart::attachAxes()
{
    removeAxes(m_chart);
    auto *x = new QValueAxis(this);
    x->setTitleText(xTitle());
    x->setLabelFormat(QStringLiteral("%d"));
    x->setTickType(QValueAxis::TicksDynamic);
    x->setTickAnchor(0);
    x->setTickInterval(1);
    QString yTitle;
    switch (m_metric) {
    case Metric::Perplexity: yTitle = yAxisIsLogarithmic() ? tr("Perplexity (log scale)") : tr("Perplexity"); break;
    case Metric::KlToDense: yTitle = tr("KL to dense (nats per token)"); break;
    case Metric::Score: yTitle = tr("Chosen candidate's score (method's metric)"); break;
    }
    QList<QAbstractSeries *> series;
    for (const Run &r : m_runs)
        if (r.series)
            series << r.series;
    addAxes(m_chart, x, makeValueAxis(this, yTitle, QStringLiteral("%.4g"), yAxisIsLogarithmic()), series);
    rescale();
}

void TraceChart::rescale()
{
    m_rescalePending = false;
    double xMax = 1, yMin = std::numeric_limits<double>::infinity(), yMax = -yMin;
    for (const Run &r : m_runs) {
        if (!r.series)
            continue;
        for (const QPointF &p : r.series->points()) {
            xMax = std::max(xMax, p.x());
            yMin = std::min(yMin, p.y());
            yMax = std::max(yMax, p.y());
        }
    }
    const auto [x, vAxis] = lineAxes(m_chart);
    if (!x)
        return;
    // Whole units on the x axis, about ten labels at most.
    const double step = std::max(1.0, std::ceil(xMax / 10.0));
    x->setTickInterval(step);
    // A little room either side so the markers at 0 (dense) and at the end are not cut in half.
    x->setRange(-0.25 * step, xMax + 0.25 * step);
    if (auto *logAxis = qobject_cast<QLogValueAxis *>(vAxis)) {
        // Base 2 over a narrow range: a perplexity from 30 to 90 holds no power of 10.
        fitLogAxis(logAxis, yMin, yMax, 1.08, 1, 100);
    } else {
        fitValueAxis(static_cast<QValueAxis *>(vAxis), yMin, yMax, 0.06, false);
    }
}

} // namespace blockscope::views
