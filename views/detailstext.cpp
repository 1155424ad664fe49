#include "detailstext.h"

#include "format.h"
#include "model/inspect.h"
#include "model/modelhandle.h"

#include <QStringList>

namespace blockscope::views {

namespace {

QString row(const QString &key, const QString &value)
{
    return QStringLiteral("<tr><td style='padding-right:12px;color:#777777'>%1</td><td>%2</td></tr>")
        .arg(key.toHtmlEscaped(), value.toHtmlEscaped());
}

QString statsRows(const TensorStats *s)
{
    if (!s)
        return row(QStringLiteral("statistics"), QStringLiteral("not computed yet"));
    QString out;
    out += row(QStringLiteral("min"), formatStat(s->min));
    out += row(QStringLiteral("max"), formatStat(s->max));
    out += row(QStringLiteral("mean"), formatStat(s->mean));
    out += row(QStringLiteral("std"), formatStat(s->std));
    out += row(QStringLiteral("L2 norm"), formatStat(s->l2));
    out += row(QStringLiteral("zeros"), formatPercent(s->zeroFraction));
    out += row(QStringLiteral("NaN / Inf"), QStringLiteral("%1 / %2").arg(s->nanCount).arg(s->infCount));
    return out;
}

QString section(const QString &title, const QString &rows)
{
    return QStringLiteral("<h3>%1</h3><table cellspacing='0' cellpadding='1'>%2</table>")
        .arg(title.toHtmlEscaped(), rows);
}

} // namespace

QString modelDetailsHtml(const ModelHandle &model)
{
    return QStringLiteral("<h3>Model</h3><pre>%1</pre>")
        .arg(QString::fromStdString(architectureSummary(model)).toHtmlEscaped());
}

QString tensorDetailsHtml(const ModelHandle &model, const TensorInfo &t, const TensorStats *stats)
{
    QString info;
    info += row(QStringLiteral("name"), QString::fromStdString(t.name));
    if (t.sourceName != t.name)
        info += row(QStringLiteral("name in file"), QString::fromStdString(t.sourceName));
    info += row(QStringLiteral("role"),
        QString::fromUtf8(roleName(t.role).data(), static_cast<qsizetype>(roleName(t.role).size())));
    if (t.block >= 0)
        info += row(QStringLiteral("block"), QString::number(t.block));
    info += row(QStringLiteral("shape"), formatShape(t.shape));
    info += row(QStringLiteral("dtype"),
        QStringLiteral("%1 (%2 bits per weight%3)")
            .arg(QString::fromStdString(t.storageType))
            .arg(bitsPerWeight(t), 0, 'g', 4)
            .arg(dtypeIsBlockQuantised(t.dtype) ? QStringLiteral(", dequantised at load") : QString()));
    info += row(QStringLiteral("parameters"), formatCount(t.elementCount()));
    info += row(QStringLiteral("bytes"), QStringLiteral("%1 (%2)").arg(formatCount(t.bytes), formatBytes(t.bytes)));
    info += row(QStringLiteral("file"), QString::fromStdString(model.fileName(t.fileIndex)));
    info += row(QStringLiteral("offset"), formatCount(t.offset));
    if (!t.loadable)
        info += row(QStringLiteral("note"), QStringLiteral("quantisation the engine cannot compute with"));
    return section(QStringLiteral("Tensor"), info) + section(QStringLiteral("Statistics"), statsRows(stats));
}

QString groupDetailsHtml(const GroupTotals &g, const TensorStats *combined)
{
    QString info;
    info += row(QStringLiteral("tensors"), QString::number(g.tensorCount));
    QString params = formatCount(g.parameters);
    if (g.modelParameters > 0)
        params += QStringLiteral(" (%1 of the model)")
                      .arg(formatPercent(static_cast<double>(g.parameters) / static_cast<double>(g.modelParameters)));
    info += row(QStringLiteral("parameters"), params);
    info += row(QStringLiteral("bytes"), QStringLiteral("%1 (%2)").arg(formatCount(g.bytes), formatBytes(g.bytes)));
    if (g.parameters > 0)
        info += row(QStringLiteral("bits per weight"),
            QString::number(8.0 * static_cast<double>(g.bytes) / static_cast<double>(g.parameters), 'g', 4));
    return section(g.name, info) + section(QStringLiteral("Statistics of all values"), statsRows(combined));
}

} // namespace blockscope::views
