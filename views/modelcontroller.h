#pragma once

#include "jobrunner.h"
#include "statscachestore.h"

#include <QObject>
#include <QString>

#include <memory>

class QTimer;

namespace blockscope {
class ModelHandle;
class TensorStatsCache;
} // namespace blockscope

namespace blockscope::views {

// The open checkpoint, like every page's controller: opening runs in the background and replaces
// the model only when it succeeds (a failed open leaves the open one as it was); each open starts
// the statistics of every tensor, which fill a per-checkpoint cache (StatsCacheStore) and are
// announced at most every 400 ms while they run.
class ModelController : public QObject
{
    Q_OBJECT
public:
    explicit ModelController(JobRunner *runner, QObject *parent = nullptr);

    void open(const QString &path);
    std::shared_ptr<const ModelHandle> model() const { return m_model; }
    QString path() const { return m_path; }

    // (Re)starts the statistics of the open model; what the cache has is not computed again.
    void computeStats();
    bool statsRunning() const;
    std::shared_ptr<TensorStatsCache> stats() const { return m_stats; }

Q_SIGNALS:
    void opened(const QString &path);
    void openFailed(const QString &path, const QString &message);
    void statsChanged(); // stats() holds more than when last announced
    void statsDone();
    void statsFailed(const QString &message);

private:
    void announceStats();

    JobRunner *m_runner;
    QTimer *m_statsTimer;
    QString m_path;
    std::shared_ptr<const ModelHandle> m_model;
    std::shared_ptr<TensorStatsCache> m_stats;
    StatsCacheStore m_caches;
    JobId m_statsJob = 0;
    std::size_t m_statsAnnounced = 0;
};

} // namespace blockscope::views
