#pragma once

// What the export tests share: prune a model with the CLI, export a configuration, and compute
// Blockscope's own masked forward of that configuration for comparison.

#include "clirunner.h"
#include "model/unitmask.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <string>

namespace blockscope::test {

inline CliResult runExportCli(const QStringList &args)
{
    return runProgram(QStringLiteral(BLOCKSCOPE_CLI), args, 900000);
}

inline QJsonObject readJsonObject(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

// The configuration an export's blockscope.json records.
inline UnitMask exportedMask(const QJsonObject &record)
{
    const QJsonObject c = record.value(QStringLiteral("configuration")).toObject();
    UnitMask m
        = UnitMask::dense(record.value(QStringLiteral("model")).toObject().value(QStringLiteral("blocks")).toInt());
    for (const auto v : c.value(QStringLiteral("removed_attention")).toArray())
        m.skipAttn[static_cast<std::size_t>(v.toInt())] = true;
    for (const auto v : c.value(QStringLiteral("removed_mlp")).toArray())
        m.skipMlp[static_cast<std::size_t>(v.toInt())] = true;
    return m;
}

// Blockscope's logits of `mask` on `model` (and of the dense model), on two windows of the text's
// tokens, written as a safetensors file for tests/interop/check_*_export.py; compares the masked
// forward with Blockscope's dense forward of `reloaded` when given (an export read back by
// Blockscope itself). `logitsOfReloaded`: the file's "logits" are the
// export's own (a quantised export's configuration), not the source's masked forward.
struct ReloadAgreement
{
    double maxDiff = 0; // largest |logit difference| between the reloaded export and the masked forward
    double top1 = 1; // fraction of positions whose most likely token is the same in both
};
ReloadAgreement writeExportReference(const QString &model, const UnitMask &mask, const QString &textPath,
    int keptLayers, const QString &out, const QString &reloaded = {}, bool logitsOfReloaded = false);

} // namespace blockscope::test
