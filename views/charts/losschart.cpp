#include "losschart.h"

#include "chartaxes.h"
#include "chartexport.h"
#include "gatetrainmodel.h"

#include <QChart>
#include <QChartView>
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

LossChart::LossChart(QWidget *parent)
    : ChartWidget(parent)
    , m_loss(new QLineSeries(this))
    , m_heldOut(new QLineSeries(this))
    , m_lossMapper(new QVXYModelMapper(this))
    , m_heldOutMapper(new QVXYModelMapper(this))
{
    setObjectName(QStringLiteral("lossChart"));
    m_chart->setTitle(tr("Gate training loss"));
    m_loss->setName(tr("training loss (10 \u00d7 \u03a3 layer KL)"));
    QPen lossPen = m_loss->pen();
    lossPen.setWidthF(1.5);
    m_loss->setPen(lossPen);
    m_heldOut->setName(tr("held-out (same scale)"));
    m_heldOut->setPointsVisible(true);
    m_heldOut->setMarkerSize(9);
    QPen heldOutPen(QColor(0xe6, 0x55, 0x0d), 2.0, Qt::DashLine);
    m_heldOut->setPen(heldOutPen);
    m_chart->addSeries(m_loss);
    m_chart->addSeries(m_heldOut);
    m_lossMapper->setSeries(m_loss);
    m_lossMapper->setXColumn(GateTrainModel::Step);
    m_lossMapper->setYColumn(GateTrainModel::Loss);
    m_heldOutMapper->setSeries(m_heldOut);
    m_heldOutMapper->setXColumn(GateEvalModel::Step);
    m_heldOutMapper->setYColumn(GateEvalModel::HeldOutLoss);
    for (QLineSeries *s : {m_loss, m_heldOut}) {
        connect(s, &QXYSeries::pointAdded, this, &LossChart::scheduleRescale);
        connect(s, &QXYSeries::pointsRemoved, this, &LossChart::scheduleRescale);
        connect(s, &QXYSeries::pointsReplaced, this, &LossChart::scheduleRescale);
    }
    showChart();
    attachAxes();
}

LossChart::~LossChart()
{
    // The mappers listen to models the caller owns.
    m_lossMapper->setModel(nullptr);
    m_heldOutMapper->setModel(nullptr);
}

void LossChart::setModels(GateTrainModel *steps, GateEvalModel *evals)
{
    m_lossMapper->setModel(steps);
    m_heldOutMapper->setModel(evals);
    // A mapper without a model leaves its series as they were.
    if (!steps)
        m_loss->clear();
    if (!evals)
        m_heldOut->clear();
    scheduleRescale();
}

void LossChart::setTotalSteps(qint64 steps)
{
    m_totalSteps = steps;
    rescale();
}

int LossChart::trainingPointCount() const
{
    return static_cast<int>(m_loss->count());
}

int LossChart::evalPointCount() const
{
    return static_cast<int>(m_heldOut->count());
}

double LossChart::xAxisMax() const
{
    const QAbstractAxis *axis = firstAxis(m_chart, Qt::Horizontal);
    return axis ? static_cast<const QValueAxis *>(axis)->max() : 0.0;
}

void LossChart::attachAxes()
{
    removeAxes(m_chart);
    auto *x = new QValueAxis(this);
    x->setTitleText(tr("Step"));
    x->setLabelFormat(QStringLiteral("%d"));
    auto *y = makeValueAxis(this, m_log ? tr("Loss (log scale)") : tr("Loss"), QStringLiteral("%.3g"), m_log);
    addAxes(m_chart, x, y, {m_loss, m_heldOut});
    rescale();
}

void LossChart::rescale()
{
    m_rescalePending = false;
    double xMax = std::max<double>(static_cast<double>(m_totalSteps), 1.0);
    double yMin = std::numeric_limits<double>::infinity(), yMax = -yMin;
    for (QLineSeries *s : {m_loss, m_heldOut})
        for (const QPointF &p : s->points()) {
            xMax = std::max(xMax, p.x());
            if (std::isfinite(p.y()) && (!m_log || p.y() > 0)) {
                yMin = std::min(yMin, p.y());
                yMax = std::max(yMax, p.y());
            }
        }
    const auto [x, vAxis] = lineAxes(m_chart);
    if (!x)
        return;
    // The run's own span (not rounded up to a nice 400 for 300 steps), labels at a round step.
    const double raw = xMax / 6.0;
    const double magnitude = std::pow(10.0, std::floor(std::log10(std::max(raw, 1.0))));
    double interval = magnitude;
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * magnitude >= raw) {
            interval = std::max(1.0, m * magnitude);
            break;
        }
    x->setTickType(QValueAxis::TicksDynamic);
    x->setTickAnchor(0);
    x->setTickInterval(interval);
    x->setRange(0, xMax);
    if (auto *logAxis = qobject_cast<QLogValueAxis *>(vAxis)) {
        fitLogAxis(logAxis, yMin, yMax, 1.1, 0.1, 10);
    } else {
        auto *linear = static_cast<QValueAxis *>(vAxis);
        if (!(yMin <= yMax)) {
            yMin = 0;
            yMax = 1;
        }
        // Loss is non-negative: start at 0 so the fall reads at its true proportion.
        linear->setRange(0, yMax > 0 ? yMax * 1.08 : 1.0);
        linear->applyNiceNumbers();
    }
}

bool LossChart::exportTo(const QString &path, QString *error)
{
    rescale();
    return exportChartFile(m_chart, chartExportSize(m_view), path, tr("Blockscope gate training loss"), error);
}

} // namespace blockscope::views
