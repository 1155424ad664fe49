#include "gridcsv.h"

#include "common/atomicfile.h"
#include "common/csv.h"

#include <QFile>

#include <cmath>
#include <limits>

namespace blockscope::render {

namespace {
// Nine significant digits read every float back exactly; NaN is empty, infinities as strtod reads them.
std::string cell(float v)
{
    if (std::isinf(v))
        return v > 0 ? "inf" : "-inf";
    return csv::number(v, 9);
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
    const auto header = [&](int index) {
        if (index < static_cast<int>(labels.size()))
            return QStringLiteral("%1:%2").arg(index).arg(labels[static_cast<std::size_t>(index)]).toStdString();
        return std::to_string(index);
    };
    std::vector<std::string> fields{"row\\col"};
    for (int j = 0; j < grid.nb; ++j)
        fields.push_back(csv::field(header(j)));
    csv::Writer table(fields);
    for (int i = 0; i < grid.nb; ++i) {
        fields = {csv::field(header(i))};
        for (int j = 0; j < grid.nb; ++j)
            fields.push_back(causal && j > i ? std::string() : cell(grid.at(i, j)));
        table.row(fields);
    }
    try {
        writeFileAtomically(path.toStdString(), table.text());
    } catch (const std::exception &e) {
        if (error)
            *error = QString::fromStdString(e.what());
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
