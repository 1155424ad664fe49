#include "ppaexport.h"

#include "ppapointmodel.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QStringList>

#include <cmath>

namespace blockscope::views {

using ppa::Figure;
using ppa::PpaPoint;

namespace {

QString str(const std::string &s)
{
    return QString::fromStdString(s);
}

QJsonValue jsonNumber(double v)
{
    return std::isfinite(v) ? QJsonValue(v) : QJsonValue();
}

QJsonObject figureJson(const Figure &f, const QString &unit)
{
    QJsonObject o{{"value", jsonNumber(f.value)}, {"unit", unit}, {"provenance", ppa::provenanceName(f.provenance)}};
    if (f.provenance == ppa::Provenance::Measured || std::isfinite(f.min)) {
        o.insert("min", jsonNumber(f.min));
        o.insert("max", jsonNumber(f.max));
        o.insert("runs", f.runs);
    }
    if (!f.note.empty())
        o.insert("note", str(f.note));
    return o;
}

QJsonObject modelled(double v, const QString &unit, const QString &source)
{
    return {{"value", jsonNumber(v)}, {"unit", unit}, {"provenance", "modelled"}, {"source", source}};
}

QJsonObject pointJson(const PpaPoint &p)
{
    QJsonObject o{{"label", str(p.label)}, {"step", p.step},
        {"mask", p.mask.layers() > 0 ? QJsonValue(str(p.mask.describe())) : QJsonValue()},
        {"attention_density", jsonNumber(p.attentionDensity)},
        {"perplexity", QJsonObject{{"value", jsonNumber(p.perplexity)}, {"provenance", "measured"}}},
        {"kl_to_dense", QJsonObject{{"value", jsonNumber(p.klToDense)}, {"provenance", "measured"}}},
        {"protocol", str(p.protocol)}};
    const ppa::CostModel &c = p.costs;
    const QString cost = QStringLiteral("cost model");
    o.insert("costs",
        QJsonObject{{"params_total", modelled(static_cast<double>(c.paramsTotal), "params", cost)},
            {"params_kept", modelled(static_cast<double>(c.paramsKept), "params", cost)},
            {"stored_bytes", modelled(c.storedBytes, "B", cost)},
            {"compute_bytes", modelled(c.computeBytes, "B", cost)},
            {"kv_bytes_per_token", modelled(c.kvBytesPerToken, "B/token", cost)},
            {"activation_peak_bytes", modelled(c.activationPeakBytes, "B", cost)},
            {"prefill_flops_per_token", modelled(c.prefillFlopsPerToken, "FLOP/token", cost)},
            {"prefill_bytes_per_token", modelled(c.prefillBytesPerToken, "B/token", cost)},
            {"decode_flops_per_token", modelled(c.decodeFlopsPerToken, "FLOP/token", cost)},
            {"decode_bytes_per_token", modelled(c.decodeBytesPerToken, "B/token", cost)}});
    QJsonArray units;
    for (const ppa::UnitCost &u : c.units)
        units.append(QJsonObject{{"unit", str(u.unit)}, {"layer", u.layer}, {"removed", u.removed},
            {"params", modelled(static_cast<double>(u.params), "params", cost)},
            {"stored_bytes", modelled(u.storedBytes, "B", cost)},
            {"prefill_flops_per_token", modelled(u.prefillFlopsPerToken, "FLOP/token", cost)},
            {"decode_flops_per_token", modelled(u.decodeFlopsPerToken, "FLOP/token", cost)},
            {"decode_bytes_per_token", modelled(u.decodeBytesPerToken, "B/token", cost)},
            {"prefill_seconds", figureJson(u.seconds, "s")}});
    o.insert("units", units);
    if (p.measured) {
        const ppa::Measurement &m = *p.measured;
        o.insert("measured",
            QJsonObject{{"device", str(m.device)}, {"dtype", str(m.dtype)}, {"threads", m.threads}, {"batch", m.batch},
                {"seq", m.seq}, {"decode_tokens", m.decodeTokens}, {"energy_source", str(m.energySource)},
                {"prefill_tokens_per_s", figureJson(m.prefillTokensPerSecond, "tokens/s")},
                {"decode_ms_per_token", figureJson(m.decodeMsPerToken, "ms/token")},
                {"prefill_j_per_token", figureJson(m.prefillJoulesPerToken, "J/token")},
                {"decode_j_per_token", figureJson(m.decodeJoulesPerToken, "J/token")},
                {"peak_memory_bytes", figureJson(m.peakMemoryBytes, "B")}});
    }
    QJsonArray predictions;
    for (const ppa::Prediction &q : p.predictions) {
        const QString source = QStringLiteral("roofline, %1").arg(str(q.device));
        predictions.append(
            QJsonObject{{"device", str(q.device)}, {"calibrated", q.calibrated}, {"provenance", "modelled"},
                {"prefill_tokens_per_s", modelled(q.prefillTokensPerSecond, "tokens/s", source)},
                {"decode_ms_per_token", modelled(q.decodeMsPerToken, "ms/token", source)},
                {"prefill_j_per_token", modelled(q.prefillJoulesPerToken, "J/token", source)},
                {"decode_j_per_token", modelled(q.decodeJoulesPerToken, "J/token", source)},
                {"prefill_compute_bound", q.prefillComputeBound}, {"decode_compute_bound", q.decodeComputeBound}});
    }
    o.insert("predictions", predictions);
    return o;
}

} // namespace

QString csvField(const QString &text)
{
    if (!text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"')) && !text.contains(QLatin1Char('\n')))
        return text;
    QString q = text;
    q.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    return QLatin1Char('"') + q + QLatin1Char('"');
}

QString csvNumber(double value)
{
    return std::isfinite(value) ? QString::number(value, 'g', 10) : QString();
}

QByteArray ppaPointsCsv(const std::vector<PpaExportRun> &runs)
{
    using M = PpaPointModel;
    const QStringList header{"run", "run_name", "configuration", "step", "mask", "attention_density",
        "perplexity_measured", "kl_to_dense_measured", "protocol", "params_kept_modelled", "stored_mb_modelled",
        "prefill_tokens_per_s_measured", "prefill_tokens_per_s_measured_min", "prefill_tokens_per_s_measured_max",
        "prefill_tokens_per_s_modelled", "prefill_gap_pct", "decode_ms_per_token_measured",
        "decode_ms_per_token_measured_min", "decode_ms_per_token_measured_max", "decode_ms_per_token_modelled",
        "decode_gap_pct", "prefill_mj_per_token_measured", "prefill_mj_per_token_modelled",
        "decode_mj_per_token_measured", "decode_mj_per_token_modelled", "measurement_runs", "peak_memory_mb",
        "peak_memory_provenance", "measured_on", "modelled_on", "energy_source"};
    QString out = header.join(QLatin1Char(',')) + QLatin1Char('\n');
    for (const PpaExportRun &run : runs)
        for (int row = 0; row < run.points->rowCount(); ++row) {
            const PpaPoint &p = run.points->point(row);
            const ppa::Measurement *m = p.measured ? &*p.measured : nullptr;
            const ppa::Prediction *q = run.points->prediction(row);
            auto v = [&](int column) { return csvNumber(run.points->value(row, column)); };
            auto measuredBound = [&](const Figure *f, bool max) {
                return f && f->provenance == ppa::Provenance::Measured ? csvNumber(max ? f->max : f->min) : QString();
            };
            QStringList fields{csvField(run.id), csvField(run.name), csvField(str(p.label)), QString::number(p.step),
                csvField(p.mask.layers() > 0 ? str(p.mask.describe()) : QString()), csvNumber(p.attentionDensity),
                v(M::Perplexity), v(M::KlToDense), csvField(str(p.protocol)), v(M::ParamsKept), v(M::StoredMegabytes),
                v(M::PrefillMeasured), measuredBound(m ? &m->prefillTokensPerSecond : nullptr, false),
                measuredBound(m ? &m->prefillTokensPerSecond : nullptr, true), v(M::PrefillModelled), v(M::PrefillGap),
                v(M::DecodeMeasured), measuredBound(m ? &m->decodeMsPerToken : nullptr, false),
                measuredBound(m ? &m->decodeMsPerToken : nullptr, true), v(M::DecodeModelled), v(M::DecodeGap),
                v(M::PrefillEnergyMeasured), v(M::PrefillEnergyModelled), v(M::DecodeEnergyMeasured),
                v(M::DecodeEnergyModelled), m ? QString::number(m->prefillTokensPerSecond.runs) : QString(),
                v(M::PeakMemory),
                m && m->peakMemoryBytes.known()
                    ? QString::fromLatin1(ppa::provenanceName(m->peakMemoryBytes.provenance))
                    : QString(),
                csvField(m ? str(m->device) : QString()),
                csvField(q ? QStringLiteral("roofline, %1").arg(str(q->device)) : QString()),
                csvField(m ? str(m->energySource) : QString())};
            out += fields.join(QLatin1Char(',')) + QLatin1Char('\n');
        }
    return out.toUtf8();
}

QByteArray ppaPointsJson(const std::vector<PpaExportRun> &runs, const QJsonObject &context)
{
    QJsonArray array;
    for (const PpaExportRun &run : runs) {
        QJsonArray points;
        for (int row = 0; row < run.points->rowCount(); ++row)
            points.append(pointJson(run.points->point(row)));
        array.append(QJsonObject{{"id", run.id}, {"name", run.name}, {"points", points}});
    }
    QJsonObject root = context;
    root.insert("provenance_note",
        "measured: timed on this machine (quality: evaluated with the protocol); modelled: the analytic cost model or "
        "a roofline prediction");
    root.insert("runs", array);
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

bool writeExportFile(const QString &path, const QByteArray &bytes, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        if (error)
            *error = QCoreApplication::translate("PpaExport", "Could not write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

} // namespace blockscope::views
