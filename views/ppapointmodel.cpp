#include "ppapointmodel.h"

#include "format.h"

#include <QFont>
#include <QStringList>

#include <algorithm>
#include <cmath>

namespace blockscope::views {

using ppa::Figure;
using ppa::PpaPoint;
using ppa::Prediction;
using ppa::Provenance;

namespace {

constexpr double NaN = ppa::NaN;

QString str(const std::string &s)
{
    return QString::fromStdString(s);
}

// Four significant digits; thousands separated above 10^4 so throughputs stay readable.
QString num(double v)
{
    if (!std::isfinite(v))
        return QStringLiteral("\u2014");
    if (std::abs(v) >= 1e4)
        return formatCount(static_cast<std::uint64_t>(std::llround(std::abs(v))))
            .prepend(v < 0 ? QStringLiteral("\u2212") : QString());
    return QString::number(v, 'g', 4);
}

// A measured figure of the point for a measured column, only when it was measured.
const Figure *measuredFigure(const PpaPoint &p, int column)
{
    if (!p.measured)
        return nullptr;
    const ppa::Measurement &m = *p.measured;
    const Figure *f = nullptr;
    switch (column) {
    case PpaPointModel::PrefillMeasured: f = &m.prefillTokensPerSecond; break;
    case PpaPointModel::DecodeMeasured: f = &m.decodeMsPerToken; break;
    case PpaPointModel::PrefillEnergyMeasured: f = &m.prefillJoulesPerToken; break;
    case PpaPointModel::DecodeEnergyMeasured: f = &m.decodeJoulesPerToken; break;
    case PpaPointModel::PeakMemory: return m.peakMemoryBytes.known() ? &m.peakMemoryBytes : nullptr;
    default: return nullptr;
    }
    return f->known() && f->provenance == Provenance::Measured ? f : nullptr;
}

// What a measured column shows per unit of its figure (energy in mJ, memory in MB).
double displayScale(int column)
{
    switch (column) {
    case PpaPointModel::PrefillEnergyMeasured:
    case PpaPointModel::DecodeEnergyMeasured: return 1e3;
    case PpaPointModel::PeakMemory: return 1e-6;
    default: return 1.0;
    }
}

QString figureText(const Figure &f, double scale, const QString &unit)
{
    QString s = QStringLiteral("%1 %2 %3").arg(num(f.value * scale), unit, str(ppa::provenanceName(f.provenance)));
    if (std::isfinite(f.min) && std::isfinite(f.max))
        s += QObject::tr(" [%1\u2013%2, %n run(s)]", nullptr, f.runs).arg(num(f.min * scale), num(f.max * scale));
    if (!f.note.empty())
        s += QStringLiteral(" (%1)").arg(str(f.note));
    return s;
}

} // namespace

PpaPointModel::PpaPointModel(QObject *parent)
    : ColumnTableModel(ColumnCount, parent)
{
}

void PpaPointModel::setPoints(std::vector<PpaPoint> points)
{
    std::stable_sort(
        points.begin(), points.end(), [](const PpaPoint &a, const PpaPoint &b) { return a.step < b.step; });
    replaceRows(m_points, std::move(points));
}

void PpaPointModel::setModelledDevice(const QString &device)
{
    if (device == m_device)
        return;
    m_device = device;
    if (!m_points.empty())
        Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
    Q_EMIT headerDataChanged(Qt::Horizontal, 0, ColumnCount - 1);
}

const Prediction *PpaPointModel::prediction(int row) const
{
    if (row < 0 || row >= rowCount())
        return nullptr;
    for (const Prediction &p : point(row).predictions)
        if (m_device.isEmpty() ? p.calibrated : (!p.calibrated && str(p.device) == m_device))
            return &p;
    return nullptr;
}

QString PpaPointModel::modelledSource() const
{
    return tr("roofline, %1").arg(m_device.isEmpty() ? tr("this machine") : m_device);
}

QStringList PpaPointModel::predictionDevices() const
{
    QStringList devices;
    bool calibrated = false;
    for (const PpaPoint &p : m_points)
        for (const Prediction &q : p.predictions) {
            if (q.calibrated)
                calibrated = true;
            else if (!devices.contains(str(q.device)))
                devices << str(q.device);
        }
    if (calibrated)
        devices.prepend(QString());
    return devices;
}

int PpaPointModel::denseRow() const
{
    for (int row = 0; row < rowCount(); ++row) {
        const PpaPoint &p = point(row);
        if (p.step < 0 && p.mask.skippedUnits() == 0 && p.attentionDensity >= 1.0)
            return row;
    }
    return -1;
}

bool PpaPointModel::anyMeasured() const
{
    return std::any_of(m_points.begin(), m_points.end(), [](const PpaPoint &p) { return p.measured.has_value(); });
}

double PpaPointModel::value(int row, int column) const
{
    if (row < 0 || row >= rowCount())
        return NaN;
    const PpaPoint &p = point(row);
    const Prediction *q = prediction(row);
    auto measured = [&](int c) {
        const Figure *f = measuredFigure(p, c);
        return f ? f->value * displayScale(c) : NaN;
    };
    switch (column) {
    case Perplexity: return p.perplexity;
    case KlToDense: return p.klToDense;
    case SearchScore: return p.searchScore;
    case ParamsKept: return static_cast<double>(p.costs.paramsKept);
    case StoredMegabytes: return p.costs.storedBytes > 0 ? p.costs.storedBytes / 1e6 : NaN;
    case PrefillMeasured:
    case DecodeMeasured:
    case PrefillEnergyMeasured:
    case DecodeEnergyMeasured:
    case PeakMemory: return measured(column);
    case PrefillModelled: return q ? q->prefillTokensPerSecond : NaN;
    case DecodeModelled: return q ? q->decodeMsPerToken : NaN;
    case PrefillEnergyModelled: return q ? q->prefillJoulesPerToken * 1e3 : NaN;
    case DecodeEnergyModelled: return q ? q->decodeJoulesPerToken * 1e3 : NaN;
    case PrefillGap: return 100.0 * measuredModelledGap(p, value(row, PrefillMeasured), value(row, PrefillModelled));
    case DecodeGap: return 100.0 * measuredModelledGap(p, value(row, DecodeMeasured), value(row, DecodeModelled));
    default: return NaN;
    }
}

int PpaPointModel::measuredColumn(PpaAxis axis)
{
    switch (axis) {
    case PpaAxis::PrefillThroughput: return PrefillMeasured;
    case PpaAxis::DecodeLatency: return DecodeMeasured;
    case PpaAxis::StoredSize: return -1;
    case PpaAxis::PrefillEnergy: return PrefillEnergyMeasured;
    case PpaAxis::DecodeEnergy: return DecodeEnergyMeasured;
    }
    return -1;
}

int PpaPointModel::modelledColumn(PpaAxis axis)
{
    switch (axis) {
    case PpaAxis::PrefillThroughput: return PrefillModelled;
    case PpaAxis::DecodeLatency: return DecodeModelled;
    case PpaAxis::StoredSize: return StoredMegabytes;
    case PpaAxis::PrefillEnergy: return PrefillEnergyModelled;
    case PpaAxis::DecodeEnergy: return DecodeEnergyModelled;
    }
    return StoredMegabytes;
}

int PpaPointModel::qualityColumn(PpaQuality quality)
{
    switch (quality) {
    case PpaQuality::Perplexity: return Perplexity;
    case PpaQuality::KlToDense: return KlToDense;
    case PpaQuality::SearchScore: return SearchScore;
    }
    return Perplexity;
}

bool PpaPointModel::minimise(PpaAxis axis)
{
    return axis != PpaAxis::PrefillThroughput;
}

bool PpaPointModel::fromRoofline(PpaAxis axis)
{
    return axis != PpaAxis::StoredSize;
}

QString PpaPointModel::axisName(PpaAxis axis)
{
    switch (axis) {
    case PpaAxis::PrefillThroughput: return tr("Prefill throughput (tokens/s)");
    case PpaAxis::DecodeLatency: return tr("Decode latency (ms/token)");
    case PpaAxis::StoredSize: return tr("Weights stored (MB)");
    case PpaAxis::PrefillEnergy: return tr("Prefill energy (mJ/token)");
    case PpaAxis::DecodeEnergy: return tr("Decode energy (mJ/token)");
    }
    return {};
}

QString PpaPointModel::qualityName(PpaQuality quality)
{
    switch (quality) {
    case PpaQuality::Perplexity: return tr("Perplexity");
    case PpaQuality::KlToDense: return tr("KL to dense");
    case PpaQuality::SearchScore: return tr("Search score (calibration)");
    }
    return {};
}

int PpaPointModel::rows() const
{
    return static_cast<int>(m_points.size());
}

QString PpaPointModel::cellText(int row, int column) const
{
    const PpaPoint &p = point(row);
    switch (column) {
    case Label: return str(p.label);
    case Mask: return p.mask.layers() > 0 ? str(p.mask.describe()) : tr("density %1").arg(p.attentionDensity);
    case ParamsKept: return formatCount(static_cast<std::uint64_t>(std::max<std::int64_t>(0, p.costs.paramsKept)));
    case PrefillGap:
    case DecodeGap: {
        const double g = value(row, column);
        return std::isfinite(g) ? QStringLiteral("%1%2 %").arg(g >= 0 ? "+" : "\u2212").arg(std::abs(g), 0, 'f', 0)
                                : QStringLiteral("\u2014");
    }
    case PeakMemory: {
        const double v = value(row, column);
        return std::isfinite(v)
            ? QStringLiteral("%1 %2").arg(num(v), str(ppa::provenanceName(p.measured->peakMemoryBytes.provenance)))
            : QStringLiteral("\u2014");
    }
    default: return num(value(row, column));
    }
}

QString PpaPointModel::cellToolTip(int row, int column) const
{
    const PpaPoint &p = point(row);
    switch (column) {
    case PrefillMeasured:
    case DecodeMeasured:
    case PrefillEnergyMeasured:
    case DecodeEnergyMeasured:
    case PeakMemory: {
        if (const Figure *f = measuredFigure(p, column))
            return figureText(*f, displayScale(column), QString()).simplified();
        if (!p.measured)
            return tr("Not measured on this machine");
        const Figure &f = column == PrefillEnergyMeasured ? p.measured->prefillJoulesPerToken
            : column == DecodeEnergyMeasured              ? p.measured->decodeJoulesPerToken
                                                          : p.measured->prefillTokensPerSecond;
        return tr("Not measured: %1").arg(f.note.empty() ? tr("no figure") : str(f.note));
    }
    case PrefillModelled:
    case DecodeModelled:
    case PrefillEnergyModelled:
    case DecodeEnergyModelled: {
        const Prediction *q = prediction(row);
        if (!q)
            return tr("No roofline prediction for %1").arg(m_device.isEmpty() ? tr("this machine") : m_device);
        const bool prefill = column == PrefillModelled || column == PrefillEnergyModelled;
        return tr("Modelled: roofline on %1 (%2-bound)")
            .arg(str(q->device),
                (prefill ? q->prefillComputeBound : q->decodeComputeBound) ? tr("compute") : tr("memory"));
    }
    default: return describe(row);
    }
}

QString PpaPointModel::describe(int row) const
{
    if (row < 0 || row >= rowCount())
        return {};
    const PpaPoint &p = point(row);
    QStringList lines;
    lines << str(p.label);
    lines << tr("Configuration: %1").arg(cellText(row, Mask));
    if (p.attentionDensity < 1.0)
        lines << tr("Attention pair density %1 (prefill)").arg(p.attentionDensity);
    QString quality
        = tr("Perplexity %1 measured \u00b7 KL to dense %2 measured").arg(num(p.perplexity), num(p.klToDense));
    if (!p.protocol.empty())
        quality += QStringLiteral(" (%1)").arg(str(p.protocol));
    lines << quality;
    lines << tr("Parameters kept %1 of %2 modelled \u00b7 weights stored %3 MB modelled")
                 .arg(formatCount(static_cast<std::uint64_t>(std::max<std::int64_t>(0, p.costs.paramsKept))),
                     formatCount(static_cast<std::uint64_t>(std::max<std::int64_t>(0, p.costs.paramsTotal))),
                     num(p.costs.storedBytes / 1e6));
    if (p.measured) {
        const ppa::Measurement &m = *p.measured;
        lines << tr("Prefill: %1").arg(figureText(m.prefillTokensPerSecond, 1, tr("tokens/s")));
        lines << tr("Decode: %1").arg(figureText(m.decodeMsPerToken, 1, tr("ms/token")));
        lines << tr("Energy: prefill %1").arg(figureText(m.prefillJoulesPerToken, 1e3, tr("mJ/token")));
        lines << tr("Energy: decode %1").arg(figureText(m.decodeJoulesPerToken, 1e3, tr("mJ/token")));
        lines << tr("Peak memory: %1").arg(figureText(m.peakMemoryBytes, 1e-6, tr("MB")));
        lines << tr("Measured on %1, %2, %n thread(s), batch %3 \u00d7 %4 tokens, %5 decode tokens", nullptr, m.threads)
                     .arg(str(m.device), str(m.dtype))
                     .arg(m.batch)
                     .arg(m.seq)
                     .arg(m.decodeTokens);
    } else {
        lines << tr("Not measured on this machine");
    }
    for (const Prediction &q : p.predictions)
        lines << tr("Modelled (roofline, %1): prefill %2 tokens/s, decode %3 ms/token, %4 / %5 mJ/token")
                     .arg(str(q.device), num(q.prefillTokensPerSecond), num(q.decodeMsPerToken),
                         num(q.prefillJoulesPerToken * 1e3), num(q.decodeJoulesPerToken * 1e3));
    return lines.join(QLatin1Char('\n'));
}

QVariant PpaPointModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= ColumnCount)
        return {};
    const int row = index.row(), column = index.column();
    switch (role) {
    case Qt::DisplayRole: return cellText(row, column);
    case ValueRole: return value(row, column);
    case Qt::ToolTipRole: return cellToolTip(row, column);
    case Qt::TextAlignmentRole:
        return column <= Mask ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                              : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::FontRole:
        if (row == denseRow()) {
            QFont bold;
            bold.setBold(true);
            return bold;
        }
        return {};
    default: return {};
    }
}

QVariant PpaPointModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return QAbstractItemModel::headerData(section, orientation, role);
    const QString measured = tr("measured");
    const QString modelled = tr("modelled,\n%1").arg(m_device.isEmpty() ? tr("this machine") : m_device);
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case Perplexity:
        case KlToDense: return tr("Measured: evaluated with the run's protocol");
        case SearchScore:
            return tr("Measured on the calibration windows: the search's own score of the step's choice "
                      "(SLEB: NLL sum; FinerCut: divergence to dense; EvoPress: fitness)");
        case ParamsKept:
        case StoredMegabytes: return tr("Modelled: counted by the cost model from the checkpoint and the mask");
        case PeakMemory:
            return tr("Measured where it can be (CUDA allocator peak, peak resident set on Linux), else modelled: "
                      "each cell says which");
        case PrefillGap:
        case DecodeGap:
            return tr("(measured \u2212 modelled) / modelled; empty where the point's attention is sparse, since "
                      "the measurement runs dense attention");
        case PrefillEnergyModelled:
        case DecodeEnergyModelled: {
            QString from;
            for (const PpaPoint &p : m_points)
                for (const Prediction &q : p.predictions)
                    if (from.isEmpty() && (m_device.isEmpty() ? q.calibrated : str(q.device) == m_device))
                        from = str(q.energyConstantsFrom);
            return from.isEmpty() ? tr("Modelled: %1").arg(modelledSource())
                                  : tr("Modelled: %1, with the energy constants of %2").arg(modelledSource(), from);
        }
        default:
            return section == PrefillModelled || section == DecodeModelled ? tr("Modelled: %1").arg(modelledSource())
                                                                           : QVariant();
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    auto two = [](const QString &what, const QString &how) { return QStringLiteral("%1\n(%2)").arg(what, how); };
    switch (section) {
    case Label: return tr("Configuration");
    case Mask: return tr("Removed");
    case Perplexity: return two(tr("PPL"), measured);
    case KlToDense: return two(tr("KL"), measured);
    case SearchScore: return two(tr("Search score"), tr("calibration"));
    case ParamsKept: return two(tr("Params"), tr("modelled"));
    case StoredMegabytes: return two(tr("MB stored"), tr("modelled"));
    case PrefillMeasured: return two(tr("Prefill tok/s"), measured);
    case PrefillModelled: return two(tr("Prefill tok/s"), modelled);
    case PrefillGap: return two(tr("Prefill gap"), tr("meas. vs mod."));
    case DecodeMeasured: return two(tr("Decode ms/tok"), measured);
    case DecodeModelled: return two(tr("Decode ms/tok"), modelled);
    case DecodeGap: return two(tr("Decode gap"), tr("meas. vs mod."));
    case PrefillEnergyMeasured: return two(tr("Prefill mJ/tok"), measured);
    case PrefillEnergyModelled: return two(tr("Prefill mJ/tok"), modelled);
    case DecodeEnergyMeasured: return two(tr("Decode mJ/tok"), measured);
    case DecodeEnergyModelled: return two(tr("Decode mJ/tok"), modelled);
    case PeakMemory: return two(tr("Peak MB"), tr("per cell"));
    default: return {};
    }
}

} // namespace blockscope::views
