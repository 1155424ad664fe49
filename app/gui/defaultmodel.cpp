#include "defaultmodel.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace blockscope::gui {

QString defaultModelPath()
{
    // $BLOCKSCOPE_DEMO_MODEL, then the installed copy beside the executable, then the source tree
    // the app was built from (so `packaging/blockscope.sh run` opens it without installing).
    QStringList candidates;
    const QString env = qEnvironmentVariable("BLOCKSCOPE_DEMO_MODEL");
    if (!env.isEmpty())
        candidates << env;
    candidates << QCoreApplication::applicationDirPath() + QStringLiteral("/../share/blockscope/demo-model")
               << QStringLiteral(BLOCKSCOPE_SOURCE_DEMO_MODEL);
    for (const QString &c : candidates)
        if (QFileInfo::exists(c + QStringLiteral("/config.json")))
            return QDir(c).absolutePath();
    return {};
}

QString defaultCalibrationText(const QString &modelPath)
{
    const QString env = qEnvironmentVariable("BLOCKSCOPE_CALIBRATION_TEXT");
    if (!env.isEmpty())
        return QFileInfo(env).isFile() ? QFileInfo(env).absoluteFilePath() : QString();
    const bool stories = QFileInfo(modelPath).fileName().contains(QLatin1String("stories"), Qt::CaseInsensitive);
    const QString text = QStringLiteral(BLOCKSCOPE_SOURCE_SHARED_DATA) + QStringLiteral("/text/")
        + (stories ? QStringLiteral("tinystories_valid_head.txt") : QStringLiteral("tinyshakespeare.txt"));
    return QFileInfo(text).isFile() ? QFileInfo(text).absoluteFilePath() : QString();
}

} // namespace blockscope::gui
