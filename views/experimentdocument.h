#pragma once

#include "jobrunner.h"

#include <QObject>
#include <QString>

#include <memory>

namespace blockscope {
struct Experiment;
}

namespace blockscope::views {

// The experiment file the app has open, read once and shared by the pages that show it (Pruning
// and PPA); their models adapt what it holds. It owns reading: an open reads a file from outside
// in a child process first (a crash there is an error here), a reload reads the file this app
// just wrote (a search's steps, PPA points) directly. A newer read supersedes one in flight.
class ExperimentDocument : public QObject
{
    Q_OBJECT
public:
    enum class Read { Opened, Reloaded };

    explicit ExperimentDocument(JobRunner *runner, QObject *parent = nullptr);

    void open(const QString &path);
    // Reads `path` again (it becomes the document's file); without a path, the document's own.
    void reload(const QString &path);
    void reload();

    QString path() const { return m_path; }
    std::shared_ptr<const Experiment> experiment() const { return m_experiment; }

Q_SIGNALS:
    // experiment() and path() hold what was read.
    void loaded(const QString &path, ExperimentDocument::Read how);
    // What was there stays.
    void failed(const QString &path, const QString &message, ExperimentDocument::Read how);

private:
    void read(const QString &path, Read how);

    JobRunner *m_runner;
    QString m_path;
    std::shared_ptr<const Experiment> m_experiment;
};

} // namespace blockscope::views
