#include "testdata.h"

#include "model/samplemodels.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <stdexcept>

namespace blockscope::test {

QString sharedDataDir()
{
    QString dir = qEnvironmentVariable("BLOCKSCOPE_SHARED_DATA");
    if (dir.isEmpty())
        dir = QStringLiteral(BLOCKSCOPE_SHARED_DATA_DEFAULT);
    return QFileInfo(dir).isDir() ? QDir(dir).absolutePath() : QString();
}

QString sharedFile(const QString &relative)
{
    const QString dir = sharedDataDir();
    if (dir.isEmpty())
        return {};
    const QString path = QDir(dir).filePath(relative);
    return QFileInfo::exists(path) ? path : QString();
}

QString freshTempDir(const QString &name)
{
    QString base = qEnvironmentVariable("BLOCKSCOPE_TEST_TMP");
    if (base.isEmpty())
        base = QDir::tempPath() + QStringLiteral("/blockscope-tests");
    QDir dir(base + QLatin1Char('/') + name);
    dir.removeRecursively();
    QDir().mkpath(dir.path());
    return dir.path();
}

QByteArray fixtureBytes(const QString &relative)
{
    QFile f(sourceDir() + QStringLiteral("/tests/fixtures/") + relative);
    if (!f.open(QIODevice::ReadOnly))
        throw std::runtime_error("cannot read tests/fixtures/" + relative.toStdString());
    return f.readAll();
}

QString smolLm2Gguf()
{
    const auto p = smolLm2Path();
    return p ? QString::fromStdString(*p) : QString();
}

bool smolLm2Required()
{
    return !qEnvironmentVariableIsEmpty("BLOCKSCOPE_SMOLLM2_REQUIRED");
}

QString sourceDir()
{
    return QStringLiteral(BLOCKSCOPE_SOURCE_DIR);
}

} // namespace blockscope::test
