#include "hostile.h"

#include "common/formaterror.h"
#include "model/modelhandle.h"

#include <QFile>
#include <QTest>

#include <random>
#include <set>

namespace blockscope::test {

QByteArray readFile(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

void writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        qFatal("cannot write %s", qPrintable(path));
    f.write(bytes);
}

OpenOutcome tryOpen(const std::string &path, std::string *message)
{
    try {
        ModelHandle::open(path);
        return OpenOutcome::Opened;
    } catch (const FormatError &e) {
        if (message)
            *message = e.what();
        return OpenOutcome::FormatError;
    } catch (const UsageError &e) {
        if (message)
            *message = e.what();
        return OpenOutcome::UsageError;
    }
}

int mutateAndCheck(const QByteArray &bytes, const QString &path, int cuts, int flips, unsigned seed,
    const std::function<void()> &check)
{
    std::set<qsizetype> offsets;
    for (qsizetype i = 0; i < 64 && i < bytes.size(); ++i)
        offsets.insert(i);
    for (int i = 0; i < cuts; ++i)
        offsets.insert(bytes.size() * i / cuts);
    int tried = 0;
    for (qsizetype cut : offsets) {
        writeFile(path, bytes.left(cut));
        check();
        ++tried;
    }
    std::mt19937 rng(seed);
    std::uniform_int_distribution<qsizetype> where(0, bytes.size() - 1);
    std::uniform_int_distribution<int> value(0, 255);
    for (int i = 0; i < flips; ++i) {
        QByteArray copy = bytes;
        // Most damage worth finding is in the header; bias half the flips towards it.
        const qsizetype pos = (i % 2 == 0) ? where(rng) % std::min<qsizetype>(bytes.size(), 16384) : where(rng);
        copy[pos] = static_cast<char>(value(rng));
        writeFile(path, copy);
        check();
        ++tried;
    }
    return tried;
}

} // namespace blockscope::test
