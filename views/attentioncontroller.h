#pragma once

#include "jobrunner.h"
#include "sparse/attentionsnapshot.h"

#include <QObject>
#include <QString>

#include <memory>
#include <optional>

namespace blockscope::sparse {
struct GateConfig;
}

namespace blockscope::views {

// The attention page's link to the engine: an AttentionSession (model, tokenizer, gates) opened
// once in the background (job "attention-open"), then one snapshot per question (job
// "attention"): a newer question supersedes the one in flight, so moving the layer spin box fast
// never queues forwards. Gates are swapped in the session (job "attention-gates"); a gate file
// that does not fit leaves the old gates. Head, mask rule and slider changes need no model call:
// every head's maps are in the snapshot.
class AttentionController : public QObject
{
    Q_OBJECT
public:
    using Snapshot = std::shared_ptr<const sparse::LayerAttentionSnapshot>;
    struct Result
    {
        Snapshot snapshot;
        bool truncated = false;
        double seconds = 0;
    };

    AttentionController(JobRunner *runner, QObject *parent = nullptr);

    // Opens the model (with gates when a path is given) unless it is already open; empty: none.
    void configure(const QString &modelPath, const QString &gatesPath = {});
    QString modelPath() const { return m_modelPath; }
    bool isReady() const { return static_cast<bool>(m_session); }
    // Loads gates into the open session (or remembers them for the next open); empty drops them.
    void setGates(const QString &path);
    QString gatesPath() const { return m_gatesPath; }

    // Asks for the maps of `layer` for `text`; waits for the session when it is still opening.
    void request(const QString &text, int layer, const sparse::SnapshotOptions &options);
    bool isBusy() const;
    std::optional<Result> lastResult() const { return m_last; }
    QString statusText() const { return m_status; }

    // "B 16 · d_g 8 · 5 layers × 8 heads · Qavg_Kmaxminavg · 300 steps": a gate file's settings.
    static QString describeGates(const sparse::GateConfig &config);

Q_SIGNALS:
    void ready();
    void snapshotReady();
    void gatesChanged(const QString &path, const QString &summary);
    void statusChanged(const QString &text);
    // The session could not open, a snapshot failed, or gates did not load (`gates` true).
    void failed(const QString &message, bool gates);

private:
    struct Pending
    {
        QString text;
        int layer = 0;
        sparse::SnapshotOptions options;
    };
    void open();
    void run(const Pending &pending);
    void setStatus(const QString &text);

    JobRunner *m_runner;
    QString m_modelPath;
    QString m_gatesPath;
    std::shared_ptr<sparse::AttentionSession> m_session;
    // Opening, gates and snapshots run on the engine lane, one at a time.
    std::optional<Pending> m_pending;
    std::optional<Pending> m_lastAsked;
    std::optional<Result> m_last;
    QString m_status;
};

} // namespace blockscope::views
