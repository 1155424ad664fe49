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

} // namespace blockscope::gui
