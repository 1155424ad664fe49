#include "sparsitychart.h"

#include "chartaxes.h"
#include "chartexport.h"
#include "sparsitypointmodel.h"

#include "common/atomicfile.h"
#include "store/stepjson.h"
#include "store/traceexport.h"

#include <QChart>
#include <QChartView>
#include <QFile>
#include <QFileInfo>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
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

SparsityChart::SparsityChart(QWidget *parent)
    : ChartWidget(parent)
    , m_denseLine(new QLineSeries(this))
    , m_dense(std::numeric_limits<double>::quiet_NaN())
{
    setObjectName(QStringLiteral("sparsityChart"));
    m_chart->setTitle(tr("Perplexity against sparsity"));
    QPen dashed(QColor(0x40, 0x40, 0x40), 1.5, Qt::DashLine);
    m_denseLine->setPen(dashed);
    m_denseLine->setName(tr("dense"));
    m_chart->addSeries(m_denseLine);
    showChart();
    attachAxes();
    setDensePerplexity(m_dense);
}

SparsityChart::~SparsityChart()
{
    clearSeries();
}

int SparsityChart::addSeries(SparsityPointModel *points, const QString &name)
{
    Series s;
    s.points = points;
    s.name = name;
    s.line = new QLineSeries(this);
    s.line->setName(name);
    s.line->setPointsVisible(true);
    s.line->setMarkerSize(8);
    m_chart->addSeries(s.line);
    // Okabe-Ito colours: told apart with every common colour-vision deficiency.
    static const QColor palette[] = {QColor(0x00, 0x72, 0xb2), QColor(0xe6, 0x9f, 0x00), QColor(0x00, 0x9e, 0x73),
        QColor(0xcc, 0x79, 0xa7), QColor(0xd5, 0x5e, 0x00), QColor(0x56, 0xb4, 0xe9)};
    QPen pen = s.line->pen();
    pen.setColor(palette[m_series.size() % std::size(palette)]);
    pen.setWidthF(2.5);
    s.line->setPen(pen);
    s.line->setColor(pen.color());
    s.mapper = new QVXYModelMapper(this);
    s.mapper->setSeries(s.line);
    s.mapper->setXColumn(SparsityPointModel::Sparsity);
    s.mapper->setYColumn(SparsityPointModel::Perplexity);
    s.mapper->setModel(points);
    for (auto signal : {&QXYSeries::pointAdded, &QXYSeries::pointRemoved, &QXYSeries::pointReplaced})
        connect(s.line, signal, this, &SparsityChart::scheduleRescale);
    connect(s.line, &QXYSeries::pointsReplaced, this, &SparsityChart::scheduleRescale);
    connect(s.line, &QXYSeries::pointsRemoved, this, &SparsityChart::scheduleRescale);
    const int index = static_cast<int>(m_series.size());
    connect(s.line, &QXYSeries::hovered, this, [this, index](const QPointF &point, bool state) {
        if (!state) {
            QToolTip::hideText();
            return;
        }
        const Series &hit = m_series[static_cast<std::size_t>(index)];
        for (int row = 0; row < hit.points->rowCount(); ++row)
            if (std::abs(hit.points->value(row, SparsityPointModel::Sparsity) - point.x()) < 1e-9
                && std::abs(hit.points->value(row, SparsityPointModel::Perplexity) - point.y()) < 1e-9) {
                QToolTip::showText(QCursor::pos(),
                    tr("%1: %2\nsparsity %3 \u00b7 PPL %4 \u00b7 recall %5")
                        .arg(hit.name,
                            SparsityPointModel::ruleText(hit.points->results()[static_cast<std::size_t>(row)].rule))
                        .arg(point.x(), 0, 'f', 3)
                        .arg(point.y(), 0, 'g', 5)
                        .arg(hit.points->value(row, SparsityPointModel::RecallMean), 0, 'f', 3),
                    this);
                return;
            }
    });
    m_series.push_back(s);
    // Fresh axes for the new line (attaching it to the old ones re-initialises their range).
    attachAxes();
    return index;
}

void SparsityChart::clearSeries()
{
    for (Series &s : m_series) {
        s.mapper->setModel(nullptr);
        delete s.mapper;
        m_chart->removeSeries(s.line);
        delete s.line;
    }
    m_series.clear();
    scheduleRescale();
}

int SparsityChart::pointCount(int series) const
{
    if (series < 0 || series >= seriesCount())
        return 0;
    return static_cast<int>(m_series[static_cast<std::size_t>(series)].line->count());
}

QString SparsityChart::seriesName(int series) const
{
    if (series < 0 || series >= seriesCount())
        return {};
    return m_series[static_cast<std::size_t>(series)].name;
}

void SparsityChart::setDensePerplexity(double perplexity)
{
    m_dense = perplexity;
    m_denseLine->setName(std::isfinite(perplexity) ? tr("dense (PPL %1)").arg(perplexity, 0, 'g', 5) : tr("dense"));
    const auto markers = m_chart->legend()->markers(m_denseLine);
    for (QLegendMarker *marker : markers)
        marker->setVisible(std::isfinite(perplexity));
    rescale();
}

bool SparsityChart::hasDenseLine() const
{
    return std::isfinite(m_dense) && m_denseLine->count() == 2;
}

std::vector<QPointF> SparsityChart::denseLinePoints() const
{
    const QList<QPointF> points = m_denseLine->points();
    return std::vector<QPointF>(points.begin(), points.end());
}

bool SparsityChart::yAxisIsLogarithmic() const
{
    return m_log;
}

void SparsityChart::attachAxes()
{
    removeAxes(m_chart);
    auto *x = new QValueAxis(this);
    x->setTitleText(tr("Sparsity (1 \u2212 tile density, mean over layers)"));
    x->setLabelFormat(QStringLiteral("%.1f"));
    x->setTickType(QValueAxis::TicksDynamic);
    x->setTickAnchor(0);
    x->setTickInterval(0.1);
    auto *y
        = makeValueAxis(this, m_log ? tr("Perplexity (log scale)") : tr("Perplexity"), QStringLiteral("%.4g"), m_log);
    QList<QAbstractSeries *> series{m_denseLine};
    for (const Series &s : m_series)
        series << s.line;
    addAxes(m_chart, x, y, series);
    rescale();
}

void SparsityChart::rescale()
{
    m_rescalePending = false;
    double xMin = 0, xMax = 1, yMin = std::numeric_limits<double>::infinity(), yMax = -yMin;
    bool any = false;
    for (const Series &s : m_series)
        for (const QPointF &p : s.line->points()) {
            if (!any) {
                xMin = xMax = p.x();
                any = true;
            }
            xMin = std::min(xMin, p.x());
            xMax = std::max(xMax, p.x());
            yMin = std::min(yMin, p.y());
            yMax = std::max(yMax, p.y());
        }
    if (std::isfinite(m_dense)) {
        yMin = std::min(yMin, m_dense);
        yMax = std::max(yMax, m_dense);
    }
    // Sparsity lives in [0, 1]: show from 0 (dense) to a round tenth past the sparsest point.
    xMin = 0;
    xMax = any ? std::min(1.0, std::ceil(xMax * 10.0 + 1e-9) / 10.0) : 1.0;
    if (xMax <= xMin)
        xMax = 1.0;
    const auto [x, vAxis] = lineAxes(m_chart);
    if (!x)
        return;
    x->setRange(xMin - 0.02, xMax + 0.02);
    if (std::isfinite(m_dense)) {
        m_denseLine->replace(QList<QPointF>{{xMin - 0.02, m_dense}, {xMax + 0.02, m_dense}});
    } else {
        m_denseLine->clear();
    }
    if (auto *logAxis = qobject_cast<QLogValueAxis *>(vAxis)) {
        fitLogAxis(logAxis, yMin, yMax, 1.08, 1, 100);
    } else {
        // Perplexity is at least 1: round numbers must not take the axis below 0.
        fitValueAxis(static_cast<QValueAxis *>(vAxis), yMin, yMax, 0.08, true);
    }
}

bool SparsityChart::exportTo(const QString &path, QString *error)
{
    rescale();
    return exportChartFile(m_chart, chartExportSize(m_view), path, tr("Blockscope sparsity sweep"), error);
}

bool SparsityChart::exportPoints(const QString &path, QString *error) const
{
    // The points as an experiment file's sweeps are exported (store/traceexport.h), one per series.
    std::vector<SweepRecord> sweeps;
    for (const Series &s : m_series) {
        SweepRecord r;
        r.label = s.name.toStdString();
        r.densePerplexity = m_dense;
        for (const auto &result : s.points->results())
            r.points.push_back(sweepPointOf(result));
        sweeps.push_back(std::move(r));
    }
    const QString suffix = QFileInfo(path).suffix().toLower();
    std::string bytes;
    if (suffix == QLatin1String("csv")) {
        bytes = sweepsToCsv(sweeps);
    } else if (suffix == QLatin1String("json")) {
        nlohmann::json series = nlohmann::json::array();
        for (const SweepRecord &r : sweeps)
            series.push_back(sweepToJson(r));
        bytes = nlohmann::json{{"dense_perplexity", stepjson::number(m_dense)}, {"series", series}}.dump(2) + "\n";
    } else {
        if (error)
            *error = tr("%1: use .csv or .json").arg(path);
        return false;
    }
    try {
        writeFileAtomically(path.toStdString(), bytes);
    } catch (const std::exception &e) {
        if (error)
            *error = QString::fromStdString(e.what());
        return false;
    }
    return true;
}

} // namespace blockscope::views
