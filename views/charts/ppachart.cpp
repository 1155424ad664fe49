#include "ppachart.h"

#include "chartaxes.h"
#include "chartexport.h"
#include "chartvalueproxy.h"
#include "metricfilterproxy.h"

#include <QChart>
#include <QChartView>
#include <QCursor>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QScatterSeries>
#include <QTimer>
#include <QToolTip>
#include <QVBoxLayout>
#include <QVXYModelMapper>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

namespace blockscope::views {

namespace {
// Okabe-Ito colours: told apart with every common colour-vision deficiency.
const QColor runColours[] = {QColor(0x00, 0x72, 0xb2), QColor(0xd5, 0x5e, 0x00), QColor(0x00, 0x9e, 0x73),
    QColor(0xcc, 0x79, 0xa7), QColor(0xe6, 0x9f, 0x00), QColor(0x56, 0xb4, 0xe9)};

void hideFromLegend(QChart *chart, QAbstractSeries *series)
{
    for (QLegendMarker *marker : chart->legend()->markers(series))
        marker->setVisible(false);
}

void showInLegend(QChart *chart, QAbstractSeries *series, bool visible)
{
    for (QLegendMarker *marker : chart->legend()->markers(series))
        marker->setVisible(visible);
}
} // namespace

PpaChart::PpaChart(QWidget *parent)
    : ChartWidget(parent)
    , m_frontier(new QLineSeries(this))
    , m_dense(new QScatterSeries(this))
{
    setObjectName(QStringLiteral("ppaChart"));
    m_chart->legend()->setShowToolTips(true);

    // The frontier is a wide pale band drawn first, so the points sit on top of it.
    QPen band(QColor(0x30, 0x30, 0x30, 70), 9, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
    m_frontier->setPen(band);
    m_chart->addSeries(m_frontier);

    m_dense->setMarkerShape(QScatterSeries::MarkerShapeStar);
    m_dense->setMarkerSize(22);
    m_dense->setColor(QColor(0x20, 0x20, 0x20));
    m_dense->setBorderColor(Qt::white);
    m_dense->setPointLabelsFormat(tr("dense"));
    m_dense->setPointLabelsVisible(true);
    m_dense->setPointLabelsClipping(false);
    QFont labelFont = m_dense->pointLabelsFont();
    labelFont.setBold(true);
    m_dense->setPointLabelsFont(labelFont);
    m_dense->setPointLabelsColor(QColor(0x20, 0x20, 0x20));
    m_chart->addSeries(m_dense);
    connect(m_dense, &QXYSeries::hovered, this, [this](const QPointF &point, bool state) {
        if (!state) {
            QToolTip::hideText();
            return;
        }
        for (int run = 0; run < runCount(); ++run)
            for (int i = 0; i < static_cast<int>(seriesPoints(run, primarySource()).size()); ++i)
                if (seriesPoints(run, primarySource())[i] == point) {
                    QToolTip::showText(QCursor::pos(), toolTipFor(run, primarySource(), i), this);
                    return;
                }
    });

    showChart();
    attachAxes();
    refresh();
}

PpaChart::~PpaChart()
{
    // Mappers listen to models the caller owns; disconnect them before anything goes away.
    clearRuns();
}

PpaPointModel *PpaChart::runModel(int run) const
{
    return run >= 0 && run < runCount() ? m_runs[static_cast<std::size_t>(run)].points : nullptr;
}

int PpaChart::xColumn(Source source) const
{
    return source == Source::Measured ? PpaPointModel::measuredColumn(m_axis) : PpaPointModel::modelledColumn(m_axis);
}

bool PpaChart::sourceActive(Source source) const
{
    if (source == Source::Measured)
        return m_shown != Shown::ModelledOnly && xColumn(source) >= 0;
    return m_shown != Shown::MeasuredOnly;
}

PpaChart::Source PpaChart::primarySource() const
{
    if (sourceActive(Source::Measured))
        for (const Run &r : m_runs)
            if (r.measured.dots->count() > 0)
                return Source::Measured;
    return Source::Modelled;
}

const PpaChart::Series &PpaChart::seriesOf(int run, Source source) const
{
    const Run &r = m_runs[static_cast<std::size_t>(run)];
    return source == Source::Measured ? r.measured : r.modelled;
}

void PpaChart::createSeries(Run &run, Series &s, Source source, const QColor &colour)
{
    s.xFilter = new MetricFilterProxy(this);
    s.xFilter->setSourceModel(run.points);
    s.yFilter = new MetricFilterProxy(this);
    s.yFilter->setSourceModel(s.xFilter);
    s.values = new ChartValueProxy(PpaPointModel::ValueRole, this);
    s.values->setSourceModel(s.yFilter);

    s.line = new QLineSeries(this);
    QPen pen(colour, source == Source::Measured ? 2.0 : 1.5, source == Source::Measured ? Qt::SolidLine : Qt::DashLine);
    s.line->setPen(pen);
    s.dots = new QScatterSeries(this);
    s.dots->setMarkerSize(source == Source::Measured ? 11 : 12);
    if (source == Source::Measured) {
        s.dots->setColor(colour);
        s.dots->setBorderColor(colour.darker(130));
    } else {
        // Hollow: the modelled figure of the same configuration, next to its measured one.
        s.dots->setBrush(Qt::white);
        s.dots->setPen(QPen(colour, 2.2));
    }
    m_chart->addSeries(s.line);
    m_chart->addSeries(s.dots);
    hideFromLegend(m_chart, s.line);

    s.lineMapper = new QVXYModelMapper(this);
    s.lineMapper->setSeries(s.line);
    s.dotMapper = new QVXYModelMapper(this);
    s.dotMapper->setSeries(s.dots);
    for (QXYSeries *series : {static_cast<QXYSeries *>(s.line), static_cast<QXYSeries *>(s.dots)}) {
        for (auto signal : {&QXYSeries::pointAdded, &QXYSeries::pointRemoved, &QXYSeries::pointReplaced})
            connect(series, signal, this, &PpaChart::scheduleRefresh);
        connect(series, &QXYSeries::pointsReplaced, this, &PpaChart::scheduleRefresh);
        connect(series, &QXYSeries::pointsRemoved, this, &PpaChart::scheduleRefresh);
    }
    const int index = static_cast<int>(m_runs.size());
    connect(s.dots, &QXYSeries::hovered, this,
        [this, index, source](const QPointF &point, bool state) { hovered(index, source, point, state); });
    connect(s.dots, &QXYSeries::clicked, this,
        [this, index, source](const QPointF &point) { clicked(index, source, point); });
}

void PpaChart::destroySeries(Series &s)
{
    s.lineMapper->setModel(nullptr);
    s.dotMapper->setModel(nullptr);
    delete s.lineMapper;
    delete s.dotMapper;
    m_chart->removeSeries(s.line);
    m_chart->removeSeries(s.dots);
    delete s.line;
    delete s.dots;
    delete s.values;
    delete s.yFilter;
    delete s.xFilter;
    s = Series();
}

int PpaChart::addRun(PpaPointModel *points, const QString &name)
{
    points->setModelledDevice(m_device);
    Run run;
    run.points = points;
    run.name = name;
    const QColor colour = runColours[m_runs.size() % std::size(runColours)];
    createSeries(run, run.measured, Source::Measured, colour);
    createSeries(run, run.modelled, Source::Modelled, colour);
    m_runs.push_back(run);
    // The dense star stays on top of every run's points.
    m_chart->removeSeries(m_dense);
    m_chart->addSeries(m_dense);
    // Fresh axes rather than attaching the new series to the old ones (attaching re-initialises an
    // axis from the series' default domain).
    attachAxes();
    configureSeries();
    return static_cast<int>(m_runs.size()) - 1;
}

void PpaChart::clearRuns()
{
    for (Run &r : m_runs) {
        destroySeries(r.measured);
        destroySeries(r.modelled);
    }
    m_runs.clear();
    scheduleRefresh();
}

void PpaChart::setAxis(PpaAxis axis)
{
    if (axis == m_axis)
        return;
    m_axis = axis;
    configureSeries();
}

void PpaChart::setQuality(PpaQuality quality)
{
    if (quality == m_quality)
        return;
    m_quality = quality;
    configureSeries();
}

void PpaChart::setShown(Shown shown)
{
    if (shown == m_shown)
        return;
    m_shown = shown;
    refresh();
}

void PpaChart::setModelledDevice(const QString &device)
{
    m_device = device;
    for (Run &r : m_runs)
        r.points->setModelledDevice(device);
    refresh();
}

void PpaChart::setLogQuality(bool log)
{
    if (log == m_logQuality)
        return;
    m_logQuality = log;
    configureSeries();
}

bool PpaChart::yAxisIsLogarithmic() const
{
    return m_logQuality && m_quality == PpaQuality::Perplexity;
}

void PpaChart::configureSeries()
{
    // The axes first: an old logarithmic axis must never see the new columns' values.
    attachAxes();
    const int y = PpaPointModel::qualityColumn(m_quality);
    for (Run &r : m_runs)
        for (Source source : {Source::Measured, Source::Modelled}) {
            Series &s = source == Source::Measured ? r.measured : r.modelled;
            const int x = xColumn(source) >= 0 ? xColumn(source) : PpaPointModel::modelledColumn(m_axis);
            s.xFilter->setMetricColumn(x);
            s.xFilter->setPositiveOnly(true); // throughput, time, size and energy are all positive
            s.yFilter->setMetricColumn(y);
            s.yFilter->setPositiveOnly(yAxisIsLogarithmic());
            for (QVXYModelMapper *mapper : {s.lineMapper, s.dotMapper}) {
                mapper->setXColumn(x);
                mapper->setYColumn(y);
                if (!mapper->model())
                    mapper->setModel(s.values);
            }
        }
    refresh();
}

void PpaChart::attachAxes()
{
    removeAxes(m_chart);
    QAbstractAxis *x = makeValueAxis(this, QString(), m_xLog ? QStringLiteral("%.3g") : QStringLiteral("%.4g"), m_xLog);
    if (m_xLog)
        static_cast<QLogValueAxis *>(x)->setBase(10);
    QAbstractAxis *y = makeValueAxis(this, QString(), QStringLiteral("%.4g"), yAxisIsLogarithmic());
    addAxes(m_chart, x, y, m_chart->series());
}

void PpaChart::scheduleRefresh()
{
    scheduleOnce(&m_refreshPending, this, &PpaChart::refresh);
}

void PpaChart::refresh()
{
    m_refreshPending = false;
    const QString qualityName = PpaPointModel::qualityName(m_quality);
    const QString axisName = PpaPointModel::axisName(m_axis);
    const QString modelledName = PpaPointModel::fromRoofline(m_axis)
        ? tr("modelled (roofline, %1)").arg(m_device.isEmpty() ? tr("this machine") : m_device)
        : tr("modelled (cost model)");

    // Which series show: a source that is switched on and has points.
    bool anyMeasured = false, anyModelled = false;
    for (Run &r : m_runs) {
        r.measured.dots->setName(tr("%1 \u00b7 measured").arg(r.name));
        r.modelled.dots->setName(tr("%1 \u00b7 %2").arg(r.name, modelledName));
        for (Source source : {Source::Measured, Source::Modelled}) {
            Series &s = source == Source::Measured ? r.measured : r.modelled;
            const bool visible = sourceActive(source) && s.dots->count() > 0;
            s.line->setVisible(visible);
            s.dots->setVisible(visible);
            hideFromLegend(m_chart, s.line);
            showInLegend(m_chart, s.dots, visible);
            (source == Source::Measured ? anyMeasured : anyModelled) |= visible;
        }
    }

    // The frontier and the dense star belong to the primary source: measured when there is any.
    const Source primary = primarySource();
    const bool primaryShown = primary == Source::Measured ? anyMeasured : anyModelled;
    std::vector<double> xs, ys;
    QList<QPointF> all, dense;
    if (primaryShown)
        for (int run = 0; run < runCount(); ++run) {
            const QList<QPointF> points = seriesPoints(run, primary);
            for (int i = 0; i < points.size(); ++i) {
                all << points[i];
                xs.push_back(points[i].x());
                ys.push_back(points[i].y());
                const PpaPointModel *model = m_runs[static_cast<std::size_t>(run)].points;
                if (rowFor(run, primary, i) == model->denseRow() && model->denseRow() >= 0)
                    dense << points[i];
            }
        }
    QList<QPointF> front;
    for (std::size_t i : ppa::paretoFrontier(xs, ys, PpaPointModel::minimise(m_axis), true))
        front << all[static_cast<qsizetype>(i)];
    m_frontierSource = primary == Source::Measured ? tr("measured") : modelledName;
    m_frontier->replace(front);
    m_frontier->setName(tr("Pareto frontier (%1)").arg(m_frontierSource));
    m_frontier->setVisible(front.size() > 1);
    showInLegend(m_chart, m_frontier, front.size() > 1);
    m_dense->replace(dense);
    // Runs of one model share its dense point (the same perplexity, measured once per run): one
    // label is enough, two on top of each other are unreadable.
    m_dense->clearPointsConfiguration();
    for (int i = 1; i < dense.size(); ++i)
        for (int j = 0; j < i; ++j)
            if (std::abs(dense[i].y() - dense[j].y()) <= 1e-9 * std::abs(dense[i].y())) {
                m_dense->setPointConfiguration(i, QXYSeries::PointConfiguration::LabelVisibility, false);
                break;
            }
    m_dense->setName(tr("dense model (%1)").arg(m_frontierSource));
    m_dense->setVisible(!dense.isEmpty());
    showInLegend(m_chart, m_dense, !dense.isEmpty());
    // A row of entries below the plot while they fit; a column beside it for several runs.
    const Qt::Alignment legendSide = legendNames().size() > 4 ? Qt::AlignRight : Qt::AlignBottom;
    if (m_chart->legend()->alignment() != legendSide)
        m_chart->legend()->setAlignment(legendSide);

    // Titles say what is measured and what is modelled.
    m_chart->setTitle(tr("%1 against %2").arg(qualityName, axisName.left(1).toLower() + axisName.mid(1)));
    QString how;
    if (anyMeasured && anyModelled)
        how = tr("measured and %1").arg(modelledName);
    else if (anyMeasured)
        how = tr("measured");
    else if (anyModelled)
        how = modelledName;
    else
        how = tr("no points");
    // Points without the chosen quality (a run searched without per-step evaluation has no
    // perplexity or KL): say so instead of drawing empty axes.
    int rows = 0, withQuality = 0;
    for (const Run &r : m_runs)
        for (int row = 0; row < r.points->rowCount(); ++row) {
            ++rows;
            withQuality += std::isfinite(r.points->value(row, PpaPointModel::qualityColumn(m_quality)));
        }
    if (rows > 0 && withQuality == 0)
        m_chart->setTitle(m_quality == PpaQuality::SearchScore
                ? tr("No search scores to plot: these points have no step of a search")
                : tr("No %1 to plot: the runs were searched without per-step evaluation; choose Search score")
                      .arg(qualityName.toLower()));
    // A datacentre roofline next to a laptop measurement spans decades: a log axis then.
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    for (int run = 0; run < runCount(); ++run)
        for (Source source : {Source::Measured, Source::Modelled})
            if (seriesVisible(run, source))
                for (const QPointF &p : seriesPoints(run, source)) {
                    lo = std::min(lo, p.x());
                    hi = std::max(hi, p.x());
                }
    const bool xLog = lo > 0 && hi / lo > 100;
    if (xLog != m_xLog) {
        m_xLog = xLog;
        attachAxes();
    }
    // Whole numbers (50000) read better than 5e+04 on an axis of throughputs; an empty axis (0 to 1)
    // needs decimals, or its ticks repeat.
    const bool empty = !(lo <= hi);
    const QString xFormat = !empty && (lo >= 10 || hi >= 1e4) ? QStringLiteral("%.0f") : QStringLiteral("%.4g");
    if (auto *logAxis = qobject_cast<QLogValueAxis *>(m_chart->axes(Qt::Horizontal).value(0)))
        logAxis->setLabelFormat(!empty && lo >= 10 ? xFormat : QStringLiteral("%.3g"));
    else if (auto *linear = qobject_cast<QValueAxis *>(m_chart->axes(Qt::Horizontal).value(0)))
        linear->setLabelFormat(xFormat);
    const auto hAxes = m_chart->axes(Qt::Horizontal);
    const auto vAxes = m_chart->axes(Qt::Vertical);
    if (!hAxes.isEmpty())
        hAxes.front()->setTitleText(
            QStringLiteral("%1 \u2014 %2%3").arg(axisName, how, m_xLog ? tr(", log scale") : QString()));
    if (!vAxes.isEmpty())
        vAxes.front()->setTitleText(
            QStringLiteral("%1 (%2%3)")
                .arg(qualityName, tr("measured"), yAxisIsLogarithmic() ? tr(", log scale") : QString()));
    rescale();
}

void PpaChart::rescale()
{
    double xMin = std::numeric_limits<double>::infinity(), xMax = -xMin, yMin = xMin, yMax = -xMin;
    for (int run = 0; run < runCount(); ++run)
        for (Source source : {Source::Measured, Source::Modelled})
            if (seriesVisible(run, source))
                for (const QPointF &p : seriesPoints(run, source)) {
                    xMin = std::min(xMin, p.x());
                    xMax = std::max(xMax, p.x());
                    yMin = std::min(yMin, p.y());
                    yMax = std::max(yMax, p.y());
                }
    const auto hAxes = m_chart->axes(Qt::Horizontal);
    const auto vAxes = m_chart->axes(Qt::Vertical);
    if (hAxes.isEmpty() || vAxes.isEmpty())
        return;
    auto range = [](QAbstractAxis *axis, double low, double high, bool fromZero) {
        if (auto *logAxis = qobject_cast<QLogValueAxis *>(axis)) {
            if (!(low > 0) || !(high >= low)) {
                low = 1;
                high = 100;
            }
            // Integer bases only: Qt Charts 6.4 computes NaN marker geometry with a fractional one.
            const double l = low / 1.25, h = high * 1.25;
            logAxis->setRange(l, h);
            logAxis->setBase(h / l >= 1000 ? 10 : 2);
            return;
        }
        // Every axis here is a positive quantity: round numbers must not take it below 0.
        fitValueAxis(static_cast<QValueAxis *>(axis), low, high, 0.08, fromZero);
    };
    range(hAxes.front(), xMin, xMax, true);
    range(vAxes.front(), yMin, yMax, true);
}

QList<QPointF> PpaChart::seriesPoints(int run, Source source) const
{
    if (run < 0 || run >= runCount())
        return {};
    return seriesOf(run, source).dots->points();
}

QString PpaChart::seriesName(int run, Source source) const
{
    if (run < 0 || run >= runCount())
        return {};
    return seriesOf(run, source).dots->name();
}

bool PpaChart::seriesVisible(int run, Source source) const
{
    if (run < 0 || run >= runCount())
        return false;
    return seriesOf(run, source).dots->isVisible() && sourceActive(source) && seriesOf(run, source).dots->count() > 0;
}

QStringList PpaChart::legendNames() const
{
    QStringList names;
    // From the series rather than the markers' own visibility, which is false until the chart is
    // on screen; the run lines have no name and never show in the legend.
    for (QLegendMarker *marker : m_chart->legend()->markers())
        if (marker->series()->isVisible() && !marker->label().isEmpty())
            names << marker->label();
    return names;
}

Qt::Alignment PpaChart::legendAlignment() const
{
    return m_chart->legend()->alignment();
}

QList<QPointF> PpaChart::frontierPoints() const
{
    return m_frontier->points();
}

QString PpaChart::frontierName() const
{
    return m_frontier->name();
}

QList<QPointF> PpaChart::densePoints() const
{
    return m_dense->points();
}

bool PpaChart::denseLabelShown(int index) const
{
    const auto config = m_dense->pointConfiguration(index);
    const auto it = config.find(QXYSeries::PointConfiguration::LabelVisibility);
    return index >= 0 && index < m_dense->count() && (it == config.end() || it->toBool());
}

int PpaChart::rowFor(int run, Source source, int index) const
{
    if (run < 0 || run >= runCount())
        return -1;
    const Series &s = seriesOf(run, source);
    if (index < 0 || index >= s.values->rowCount())
        return -1;
    const QModelIndex filtered = s.values->mapToSource(s.values->index(index, 0));
    return s.xFilter->mapToSource(s.yFilter->mapToSource(filtered)).row();
}

QString PpaChart::toolTipFor(int run, Source source, int index) const
{
    const int row = rowFor(run, source, index);
    if (row < 0)
        return {};
    const Run &r = m_runs[static_cast<std::size_t>(run)];
    const double x = r.points->value(row, xColumn(source)),
                 y = r.points->value(row, PpaPointModel::qualityColumn(m_quality));
    QString head = source == Source::Measured
        ? tr("%1 \u2014 measured point").arg(r.name)
        : tr("%1 \u2014 modelled point (%2)")
              .arg(r.name, PpaPointModel::fromRoofline(m_axis) ? r.points->modelledSource() : tr("cost model"));
    head += QStringLiteral("\n%1: %2 \u00b7 %3: %4")
                .arg(PpaPointModel::axisName(m_axis))
                .arg(x, 0, 'g', 5)
                .arg(PpaPointModel::qualityName(m_quality))
                .arg(y, 0, 'g', 5);
    const int measured = PpaPointModel::measuredColumn(m_axis);
    if (measured >= 0) {
        const double m = r.points->value(row, measured),
                     mod = r.points->value(row, PpaPointModel::modelledColumn(m_axis));
        if (std::isfinite(m) && std::isfinite(mod) && mod != 0)
            head += tr("\nmeasured %1 vs modelled %2 (%3): gap %4%5 %")
                        .arg(m, 0, 'g', 5)
                        .arg(mod, 0, 'g', 5)
                        .arg(r.points->modelledSource())
                        .arg(m >= mod ? QStringLiteral("+") : QStringLiteral("\u2212"))
                        .arg(std::abs(100.0 * (m - mod) / mod), 0, 'f', 0);
    }
    return head + QStringLiteral("\n\n") + r.points->describe(row);
}

void PpaChart::hovered(int run, Source source, const QPointF &point, bool state)
{
    if (!state) {
        QToolTip::hideText();
        return;
    }
    const QList<QPointF> points = seriesPoints(run, source);
    const auto it = std::find(points.begin(), points.end(), point);
    if (it != points.end())
        QToolTip::showText(QCursor::pos(), toolTipFor(run, source, static_cast<int>(it - points.begin())), this);
}

void PpaChart::clicked(int run, Source source, const QPointF &point)
{
    const QList<QPointF> points = seriesPoints(run, source);
    const auto it = std::find(points.begin(), points.end(), point);
    if (it != points.end())
        Q_EMIT pointClicked(run, rowFor(run, source, static_cast<int>(it - points.begin())));
}

bool PpaChart::exportTo(const QString &path, QString *error)
{
    refresh();
    return exportChartFile(m_chart, chartExportSize(m_view), path, tr("Blockscope PPA chart"), error);
}

} // namespace blockscope::views
