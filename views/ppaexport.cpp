#include "ppaexport.h"

#include "ppapointmodel.h"

#include "common/atomicfile.h"
#include "common/csv.h"
#include "store/ppajson.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
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

} // namespace

QString csvField(const QString &text)
{
    return str(csv::field(text.toStdString()));
}

QString csvNumber(double value)
{
    return str(csv::number(value, 10));
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
            points.append(
                QJsonDocument::fromJson(QByteArray::fromStdString(ppaPointJson(run.points->point(row)).dump()))
                    .object());
        array.append(QJsonObject{{"id", run.id}, {"name", run.name}, {"points", points}});
    }
    QJsonObject root = context;
    root.insert("provenance_note",
        "measured: timed on this machine (quality: evaluated with the protocol); derived: computed from measured "
        "figures (a unit's share of a measured total); modelled: the analytic cost model (every cost) or a roofline "
        "prediction");
    root.insert("runs", array);
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

bool writeExportFile(const QString &path, const QByteArray &bytes, QString *error)
{
    try {
        writeFileAtomically(
            path.toStdString(), std::string_view(bytes.constData(), static_cast<std::size_t>(bytes.size())));
    } catch (const std::exception &e) {
        if (error)
            *error = QString::fromStdString(e.what());
        return false;
    }
    return true;
}

} // namespace blockscope::views
