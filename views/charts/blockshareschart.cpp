#include "blockshareschart.h"

#include "chartaxes.h"
#include "chartexport.h"
#include "chartvalueproxy.h"
#include "ppaexport.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QFileInfo>
#include <QHorizontalStackedBarSeries>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLegend>
#include <QLegendMarker>
#include <QSortFilterProxyModel>
#include <QTimer>
#include <QVBarModelMapper>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace blockscope::views {

namespace {
// Horizontal bar charts put their first category at the bottom and Qt Charts cannot reverse a bar
// chart's axis: the rows go in last first, so the embedding ends up at the top.
class ReversedRows : public QSortFilterProxyModel
{
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;

protected:
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override { return left.row() > right.row(); }
};
} // namespace

BlockSharesChart::BlockSharesChart(QWidget *parent)
    : ChartWidget(parent, 1.0)
    , m_reversed(new ReversedRows(this))
    , m_values(new ChartValueProxy(BlockShareModel::ValueRole, this))
    , m_series(new QHorizontalStackedBarSeries(this))
    , m_mapper(new QVBarModelMapper(this))
{
    setObjectName(QStringLiteral("blockSharesChart"));
    m_series->setBarWidth(0.8);
    m_chart->addSeries(m_series);
    m_reversed->setDynamicSortFilter(true);
    m_reversed->sort(0);
    m_values->setSourceModel(m_reversed);

    m_mapper->setFirstBarSetColumn(BlockShareModel::Share);
    m_mapper->setLastBarSetColumn(BlockShareModel::RemovedMarker);
    m_mapper->setSeries(m_series);
    connect(m_series, &QAbstractBarSeries::barsetsAdded, this, &BlockSharesChart::scheduleRefresh);
    connect(m_values, &QAbstractItemModel::modelReset, this, &BlockSharesChart::scheduleRefresh);
    connect(m_values, &QAbstractItemModel::dataChanged, this, &BlockSharesChart::scheduleRefresh);
    connect(m_values, &QAbstractItemModel::headerDataChanged, this, &BlockSharesChart::scheduleRefresh);

    showChart();
    refresh();
}

BlockSharesChart::~BlockSharesChart()
{
    m_mapper->setModel(nullptr);
}

void BlockSharesChart::setModel(BlockShareModel *model)
{
    m_mapper->setModel(nullptr);
    m_model = model;
    m_reversed->setSourceModel(model);
    if (model)
        m_mapper->setModel(m_values);
    refresh();
}

void BlockSharesChart::scheduleRefresh()
{
    scheduleOnce(&m_refreshPending, this, &BlockSharesChart::refresh);
}

void BlockSharesChart::refresh()
{
    m_refreshPending = false;
    // The mapper (re)creates the sets; their look is set here each time.
    const QList<QBarSet *> sets = m_series->barSets();
    bool anyRemoved = false;
    if (m_model)
        for (int row = 0; row < m_model->rowCount(); ++row)
            anyRemoved = anyRemoved || m_model->isRemoved(row);
    for (int i = 0; i < sets.size(); ++i) {
        QBarSet *set = sets[i];
        if (i == 0) {
            set->setColor(QColor(0x00, 0x72, 0xb2));
            set->setBorderColor(QColor(0x00, 0x50, 0x80));
        } else {
            set->setBrush(QBrush(QColor(0x90, 0x90, 0x90), Qt::BDiagPattern));
            set->setPen(QPen(QColor(0x80, 0x80, 0x80), 1));
            for (QLegendMarker *marker : m_chart->legend()->markers(m_series))
                if (marker->label() == set->label())
                    marker->setVisible(anyRemoved);
        }
    }

    QStringList names;
    double top = 0;
    if (m_model)
        for (int row = 0; row < m_model->rowCount(); ++row) {
            names << m_model->data(m_model->index(row, BlockShareModel::Unit)).toString();
            const double share = m_model->value(row, BlockShareModel::Share);
            const double marker = m_model->value(row, BlockShareModel::RemovedMarker);
            top = std::max({top, std::isfinite(share) ? share : 0.0, marker});
        }
    // Fresh axes each time: a category axis laid out for other names elides the new ones.
    removeAxes(m_chart);
    m_categories = new QBarCategoryAxis(this);
    QStringList bottomUp = names;
    std::reverse(bottomUp.begin(), bottomUp.end());
    m_categories->setCategories(bottomUp);
    // Unit names are short; Qt would otherwise cut them to "..." whenever it thinks space is tight.
    m_categories->setTruncateLabels(false);
    auto *shares = new QValueAxis(this);
    shares->setLabelFormat(QStringLiteral("%.3g"));
    shares->setRange(0, top > 0 ? top * 1.1 : 1.0);
    shares->applyNiceNumbers();
    shares->setMin(0);
    const QString how = m_model ? m_model->provenance(m_model->metric()) : QString();
    shares->setTitleText(how.isEmpty() ? tr("% of kept total") : tr("% of kept total (%1)").arg(how));
    m_chart->addAxis(m_categories, Qt::AlignLeft);
    m_chart->addAxis(shares, Qt::AlignBottom);
    m_series->attachAxis(m_categories);
    m_series->attachAxis(shares);
    if (!m_model || m_model->rowCount() == 0)
        m_chart->setTitle(tr("Block shares: choose a configuration"));
    else if (!m_model->hasMetric(m_model->metric()))
        m_chart->setTitle(tr("%1: %2").arg(m_model->pointLabel(), m_model->metricTitle(m_model->metric())));
    else
        m_chart->setTitle(tr("%1 \u2014 %2").arg(m_model->pointLabel(), m_model->metricTitle(m_model->metric())));
}

QStringList BlockSharesChart::categories() const
{
    QStringList names = m_categories ? m_categories->categories() : QStringList();
    std::reverse(names.begin(), names.end());
    return names;
}

QList<double> BlockSharesChart::shares() const
{
    QList<double> values;
    const QList<QBarSet *> sets = m_series->barSets();
    if (!sets.isEmpty())
        for (int i = sets[0]->count() - 1; i >= 0; --i)
            values << sets[0]->at(i);
    return values;
}

QList<double> BlockSharesChart::removedMarkers() const
{
    QList<double> values;
    const QList<QBarSet *> sets = m_series->barSets();
    if (sets.size() > 1)
        for (int i = sets[1]->count() - 1; i >= 0; --i)
            values << sets[1]->at(i);
    return values;
}

QString BlockSharesChart::shareSetName() const
{
    const QList<QBarSet *> sets = m_series->barSets();
    return sets.isEmpty() ? QString() : sets[0]->label();
}

QString BlockSharesChart::shareAxisTitle() const
{
    return axisTitle(m_chart, Qt::Horizontal);
}

bool BlockSharesChart::exportTo(const QString &path, QString *error)
{
    refresh();
    return exportChartFile(m_chart, chartExportSize(m_view), path, tr("Blockscope block shares"), error);
}

bool BlockSharesChart::exportData(const QString &path, QString *error) const
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    const BlockShareModel *m = m_model;
    const int rows = m ? m->rowCount() : 0;
    QByteArray bytes;
    if (suffix == QLatin1String("csv")) {
        QString out
            = QStringLiteral("configuration,unit,removed,params_share_pct_modelled,prefill_flops_share_pct_modelled,"
                             "decode_bytes_share_pct_modelled,prefill_time_share_pct,prefill_time_ms,"
                             "prefill_time_provenance,prefill_energy_share_pct,prefill_mj_per_token,"
                             "prefill_energy_provenance\n");
        for (int row = 0; row < rows; ++row)
            out += QStringList{csvField(m->pointLabel()), csvField(m->unitName(row)),
                       m->isRemoved(row) ? QStringLiteral("1") : QStringLiteral("0"),
                       csvNumber(m->value(row, BlockShareModel::ParamsShare)),
                       csvNumber(m->value(row, BlockShareModel::FlopsShare)),
                       csvNumber(m->value(row, BlockShareModel::BytesShare)),
                       csvNumber(m->value(row, BlockShareModel::TimeShare)),
                       csvNumber(m->value(row, BlockShareModel::TimeMs)),
                       m->figureProvenance(row, BlockShareMetric::Time),
                       csvNumber(m->value(row, BlockShareModel::EnergyShare)),
                       csvNumber(m->value(row, BlockShareModel::EnergyMillijoules)),
                       m->figureProvenance(row, BlockShareMetric::Energy)}
                       .join(QLatin1Char(','))
                + QLatin1Char('\n');
        bytes = out.toUtf8();
    } else if (suffix == QLatin1String("json")) {
        auto share = [](double v, const QString &how) {
            return QJsonObject{{"percent", std::isfinite(v) ? QJsonValue(v) : QJsonValue()}, {"provenance", how}};
        };
        auto figure = [](double v, const QString &how) {
            return QJsonObject{{"value", std::isfinite(v) ? QJsonValue(v) : QJsonValue()}, {"provenance", how}};
        };
        auto how = [m](int row, BlockShareMetric metric) {
            const QString p = m->figureProvenance(row, metric);
            return p.isEmpty() ? QStringLiteral("none") : p;
        };
        QJsonArray units;
        for (int row = 0; row < rows; ++row) {
            const QString time = how(row, BlockShareMetric::Time), energy = how(row, BlockShareMetric::Energy);
            units.append(QJsonObject{{"unit", m->unitName(row)}, {"removed", m->isRemoved(row)},
                {"params_share", share(m->value(row, BlockShareModel::ParamsShare), "modelled")},
                {"prefill_flops_share", share(m->value(row, BlockShareModel::FlopsShare), "modelled")},
                {"decode_bytes_share", share(m->value(row, BlockShareModel::BytesShare), "modelled")},
                {"prefill_time_share", share(m->value(row, BlockShareModel::TimeShare), time)},
                {"prefill_time_ms", figure(m->value(row, BlockShareModel::TimeMs), time)},
                {"prefill_energy_share", share(m->value(row, BlockShareModel::EnergyShare), energy)},
                {"prefill_mj_per_token", figure(m->value(row, BlockShareModel::EnergyMillijoules), energy)}});
        }
        const QJsonObject root{{"configuration", m ? m->pointLabel() : QString()},
            {"shares_of", "the configuration's kept total"}, {"units", units}};
        bytes = QJsonDocument(root).toJson(QJsonDocument::Indented);
    } else {
        if (error)
            *error = tr("%1: use .csv or .json").arg(path);
        return false;
    }
    return writeExportFile(path, bytes, error);
}

} // namespace blockscope::views
