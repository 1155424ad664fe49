#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <vector>

namespace blockscope::views {

class PpaPointModel;

// The PPA page's data as files: the points of the runs it shows, every figure named measured or
// modelled (../shared/specs/ppa.md: "in tables, plots and exports").
struct PpaExportRun
{
    QString id; // "run-0001"
    QString name;
    const PpaPointModel *points = nullptr;
};

// One row per point of every run: the table's columns, the modelled ones for the device the
// models show (named in a column), measured ones with their min, max and run count.
QByteArray ppaPointsCsv(const std::vector<PpaExportRun> &runs);
// Every figure of every point as {value, provenance, ...}, every prediction, the units' costs.
// `context` (the experiment file, the chosen axis, ...) goes in at the top.
QByteArray ppaPointsJson(const std::vector<PpaExportRun> &runs, const QJsonObject &context);

// A CSV field, quoted when it holds a comma, a quote or a line break.
QString csvField(const QString &text);
// A number for CSV: up to 10 significant digits, empty for NaN.
QString csvNumber(double value);
// Writes all or nothing (QSaveFile); the error names the file.
bool writeExportFile(const QString &path, const QByteArray &bytes, QString *error);

} // namespace blockscope::views
