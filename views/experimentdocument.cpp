#include "experimentdocument.h"

#include "jobs/jobcontext.h"
#include "store/experimentcheck.h"
#include "store/experimentfile.h"

#include <QFileInfo>

namespace blockscope::views {

namespace {
const QString readTag = QStringLiteral("experiment");
} // namespace

ExperimentDocument::ExperimentDocument(JobRunner *runner, QObject *parent)
    : QObject(parent)
    , m_runner(runner)
{
}

void ExperimentDocument::open(const QString &path)
{
    read(path, Read::Opened);
}

void ExperimentDocument::reload(const QString &path)
{
    read(path, Read::Reloaded);
}

void ExperimentDocument::reload()
{
    if (!m_path.isEmpty())
        read(m_path, Read::Reloaded);
}

void ExperimentDocument::read(const QString &path, Read how)
{
    const std::string p = path.toStdString();
    const QString name = QFileInfo(path).fileName();
    m_runner->run<std::shared_ptr<const Experiment>>(
        readTag, how == Read::Opened ? tr("Open experiment %1").arg(name) : tr("Read back %1").arg(name),
        [p, how](JobContext &job) {
            job.stage("reading runs and sweeps");
            return std::make_shared<const Experiment>(
                how == Read::Opened ? readExperimentChecked(p) : ExperimentFile::read(p));
        },
        this,
        [this, path, how](std::shared_ptr<const Experiment> experiment) {
            m_path = path;
            m_experiment = std::move(experiment);
            Q_EMIT loaded(path, how);
        },
        [this, path, how](const QString &message) { Q_EMIT failed(path, message, how); });
}

} // namespace blockscope::views
