#include "gridcsv.h"

#include <QFile>
#include <QSaveFile>
#include <QTextStream>

#include <cmath>
#include <limits>

namespace blockscope::render {

namespace {
QString quoted(const QString &field)
{
    if (!field.contains(QLatin1Char(',')) && !field.contains(QLatin1Char('"')) && !field.contains(QLatin1Char('\n'))
        && !field.contains(QLatin1Char('\r')))
        return field;
    QString q = field;
    q.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    return QLatin1Char('"') + q + QLatin1Char('"');
}

QString header(int index, const std::vector<QString> &labels)
{
    if (index < static_cast<int>(labels.size()))
        return quoted(QStringLiteral("%1:%2").arg(index).arg(labels[static_cast<std::size_t>(index)]));
    return QString::number(index);
}

// One CSV record from `text` starting at `pos`; quoted fields may hold line breaks.
bool readRecord(const QString &text, qsizetype &pos, QStringList *fields)
{
    fields->clear();
    if (pos >= text.size())
        return false;
    QString field;
    bool inQuotes = false;
    while (pos < text.size()) {
        const QChar c = text[pos++];
        if (inQuotes) {
            if (c == QLatin1Char('"')) {
                if (pos < text.size() && text[pos] == QLatin1Char('"')) {
                    field += c;
                    ++pos;
                } else {
                    inQuotes = false;
                }
            } else {
                field += c;
            }
        } else if (c == QLatin1Char('"')) {
            inQuotes = true;
        } else if (c == QLatin1Char(',')) {
            *fields << field;
            field.clear();
        } else if (c == QLatin1Char('\n') || c == QLatin1Char('\r')) {
            if (c == QLatin1Char('\r') && pos < text.size() && text[pos] == QLatin1Char('\n'))
                ++pos;
            break;
        } else {
            field += c;
        }
    }
    *fields << field;
    return true;
}
} // namespace

bool writeGridCsv(
    const sparse::BlockGrid &grid, const QString &path, QString *error, bool causal, const std::vector<QString> &labels)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) {
        if (error)
            *error = QStringLiteral("could not write %1: %2").arg(path, file.errorString());
        return false;
    }
    QTextStream out(&file);
    out << "row\\col";
    for (int j = 0; j < grid.nb; ++j)
        out << ',' << header(j, labels);
    out << '\n';
    for (int i = 0; i < grid.nb; ++i) {
        out << header(i, labels);
        for (int j = 0; j < grid.nb; ++j) {
            out << ',';
            const float v = grid.at(i, j);
            if (!(causal && j > i) && !std::isnan(v))
                out << QString::number(v, 'g', 9);
        }
        out << '\n';
    }
    out.flush();
    if (!file.commit()) {
        if (error)
            *error = QStringLiteral("could not write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

bool readGridCsv(const QString &path, sparse::BlockGrid *grid, QString *error)
{
    auto fail = [&](const QString &message) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(path, message);
        return false;
    };
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        return fail(file.errorString());
    const QString text = QString::fromUtf8(file.readAll());
    qsizetype pos = 0;
    QStringList fields;
    if (!readRecord(text, pos, &fields) || fields.isEmpty())
        return fail(QStringLiteral("empty file"));
    const int n = static_cast<int>(fields.size()) - 1;
    sparse::BlockGrid g(n, std::numeric_limits<float>::quiet_NaN());
    for (int i = 0; i < n; ++i) {
        if (!readRecord(text, pos, &fields))
            return fail(QStringLiteral("%1 rows, expected %2").arg(i).arg(n));
        if (fields.size() != n + 1)
            return fail(QStringLiteral("row %1 has %2 fields, expected %3").arg(i).arg(fields.size()).arg(n + 1));
        for (int j = 0; j < n; ++j) {
            const QString &f = fields[j + 1];
            if (f.isEmpty())
                continue;
            bool ok = false;
            const float v = f.toFloat(&ok);
            if (!ok)
                return fail(QStringLiteral("row %1, column %2: '%3' is not a number").arg(i).arg(j).arg(f));
            g.at(i, j) = v;
        }
    }
    *grid = std::move(g);
    return true;
}

} // namespace blockscope::render
