#pragma once

#include <QString>

#include <map>
#include <memory>

namespace blockscope {
class ModelHandle;
class TensorStatsCache;
} // namespace blockscope

namespace blockscope::views {

// One statistics cache per checkpoint, so reopening a model (or restarting a cancelled statistics
// job) only computes what is missing. Keyed by path, size and modification time of the files,
// so a rewritten checkpoint is not shown with its predecessor's numbers.
class StatsCacheStore
{
public:
    std::shared_ptr<TensorStatsCache> cacheFor(const ModelHandle &model);
    std::size_t size() const { return m_caches.size(); }

    static QString keyOf(const ModelHandle &model);

private:
    std::map<QString, std::shared_ptr<TensorStatsCache>> m_caches;
};

} // namespace blockscope::views
