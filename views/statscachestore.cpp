#include "statscachestore.h"

#include "common/mappedfile.h"
#include "model/modelhandle.h"
#include "model/tensorstats.h"

#include <QDateTime>
#include <QFileInfo>

namespace blockscope::views {

QString StatsCacheStore::keyOf(const ModelHandle &model)
{
    QString key = QFileInfo(QString::fromStdString(model.path())).absoluteFilePath();
    for (const auto &file : model.files()) {
        const QFileInfo f(QString::fromStdString(file->path()));
        key += QStringLiteral("|%1:%2").arg(file->size()).arg(f.lastModified().toMSecsSinceEpoch());
    }
    return key;
}

std::shared_ptr<TensorStatsCache> StatsCacheStore::cacheFor(const ModelHandle &model)
{
    auto &slot = m_caches[keyOf(model)];
    if (!slot)
        slot = std::make_shared<TensorStatsCache>();
    return slot;
}

} // namespace blockscope::views
