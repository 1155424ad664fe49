#include "attentioncontroller.h"

#include "jobs/jobcontext.h"
#include "sparse/gates.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

namespace blockscope::views {

namespace {
const QString openTag = QStringLiteral("attention-open");
const QString snapshotTag = QStringLiteral("attention");
const QString gatesTag = QStringLiteral("attention-gates");

struct GatesLoaded
{
    QString summary;
};
} // namespace

AttentionController::AttentionController(JobRunner *runner, QObject *parent)
    : QObject(parent)
    , m_runner(runner)
{
}

QString AttentionController::describeGates(const sparse::GateConfig &c)
{
    QString text = tr("B %1 \u00b7 d_g %2 \u00b7 %3 layers \u00d7 %4 heads \u00b7 %5")
                       .arg(c.blockSize)
                       .arg(c.gateDim > 0 ? c.gateDim : c.headDim)
                       .arg(c.layers)
                       .arg(c.qHeads)
                       .arg(QString::fromStdString(c.gateType));
    const QJsonObject recipe = QJsonDocument::fromJson(QByteArray::fromStdString(c.trainRecipe)).object();
    if (recipe.contains(QLatin1String("steps")))
        text += tr(" \u00b7 %1 steps").arg(recipe.value(QLatin1String("steps")).toVariant().toLongLong());
    return text;
}

void AttentionController::configure(const QString &modelPath, const QString &gatesPath)
{
    if (modelPath == m_modelPath && gatesPath == m_gatesPath && (m_session || m_runner->isTagRunning(openTag)))
        return;
    m_modelPath = modelPath;
    m_gatesPath = gatesPath;
    m_session.reset();
    m_last.reset();
    m_runner->cancelTag(snapshotTag);
    m_runner->cancelTag(gatesTag);
    if (modelPath.isEmpty()) {
        m_runner->cancelTag(openTag);
        setStatus(tr("Open a model to see its attention"));
        return;
    }
    open();
}

void AttentionController::open()
{
    sparse::AttentionSession::Options o;
    o.modelPath = m_modelPath.toStdString();
    o.gatesPath = m_gatesPath.toStdString();
    setStatus(tr("Opening %1\u2026").arg(QFileInfo(m_modelPath).fileName()));
    m_runner->run<std::shared_ptr<sparse::AttentionSession>>(
        openTag, tr("Attention: open %1").arg(QFileInfo(m_modelPath).fileName()),
        [o](JobContext &job) {
            job.stage("open model");
            auto session = std::make_shared<sparse::AttentionSession>(o);
            job.checkpoint();
            return session;
        },
        this,
        [this](std::shared_ptr<sparse::AttentionSession> session) {
            m_session = std::move(session);
            setStatus(tr("Ready: %1 layers \u00d7 %2 heads").arg(m_session->layers()).arg(m_session->heads()));
            Q_EMIT ready();
            if (m_session->hasGates()) {
                try {
                    const auto config = sparse::GateSet::readConfig(m_gatesPath.toStdString());
                    Q_EMIT gatesChanged(m_gatesPath, describeGates(config));
                } catch (const std::exception &) {
                    Q_EMIT gatesChanged(m_gatesPath, QString());
                }
            }
            if (m_pending) {
                const Pending p = *m_pending;
                m_pending.reset();
                run(p);
            }
        },
        [this](const QString &message) {
            // A gate file that does not fit must not keep the model closed: open without it.
            if (!m_gatesPath.isEmpty()) {
                const QString gates = m_gatesPath;
                m_gatesPath.clear();
                Q_EMIT failed(tr("Gates %1 not loaded: %2").arg(QFileInfo(gates).fileName(), message), true);
                open();
                return;
            }
            setStatus(tr("Cannot open the model: %1").arg(message));
            Q_EMIT failed(message, false);
        },
        Lane::Engine);
}

void AttentionController::setGates(const QString &path)
{
    if (!m_session) {
        m_gatesPath = path;
        if (!m_modelPath.isEmpty() && m_runner->isTagRunning(openTag))
            open(); // reopen with the new gates (supersedes the open in flight)
        return;
    }
    auto session = m_session;
    const std::string file = path.toStdString();
    setStatus(path.isEmpty() ? tr("Dropping the gates\u2026") : tr("Loading %1\u2026").arg(QFileInfo(path).fileName()));
    m_runner->run<GatesLoaded>(
        gatesTag, tr("Attention: gates %1").arg(QFileInfo(path).fileName()),
        [session, file](JobContext &) {
            session->setGates(file);
            GatesLoaded loaded;
            if (!file.empty())
                loaded.summary = describeGates(sparse::GateSet::readConfig(file));
            return loaded;
        },
        this,
        [this, path](GatesLoaded loaded) {
            m_gatesPath = path;
            setStatus(path.isEmpty() ? tr("No gates: ground truth only")
                                     : tr("Gates loaded: %1").arg(QFileInfo(path).fileName()));
            Q_EMIT gatesChanged(path, loaded.summary);
            if (m_lastAsked)
                run(*m_lastAsked);
        },
        [this, path](const QString &message) {
            setStatus(tr("Gates not loaded: %1").arg(message));
            Q_EMIT failed(tr("%1: %2").arg(QFileInfo(path).fileName(), message), true);
        },
        Lane::Engine);
}

void AttentionController::request(const QString &text, int layer, const sparse::SnapshotOptions &options)
{
    Pending p{text, layer, options};
    m_lastAsked = p;
    if (!m_session) {
        m_pending = p;
        if (m_modelPath.isEmpty())
            setStatus(tr("Open a model to see its attention"));
        return;
    }
    run(p);
}

void AttentionController::run(const Pending &p)
{
    auto session = m_session;
    const std::string text = p.text.toStdString();
    const int layer = p.layer;
    const sparse::SnapshotOptions options = p.options;
    setStatus(tr("Computing layer %1\u2026").arg(layer));
    m_runner->run<Result>(
        snapshotTag, tr("Attention: layer %1").arg(layer),
        [session, text, layer, options](JobContext &job) {
            QElapsedTimer timer;
            timer.start();
            Result r;
            auto snapshot = std::make_shared<sparse::LayerAttentionSnapshot>(
                session->snapshot(text, layer, options, &job, &r.truncated));
            r.snapshot = std::move(snapshot);
            r.seconds = static_cast<double>(timer.nsecsElapsed()) / 1e9;
            return r;
        },
        this,
        [this](Result result) {
            m_last = std::move(result);
            setStatus(QString());
            Q_EMIT snapshotReady();
        },
        [this](const QString &message) {
            setStatus(tr("Failed: %1").arg(message));
            Q_EMIT failed(message, false);
        },
        Lane::Engine);
}

bool AttentionController::isBusy() const
{
    return m_runner->isTagRunning(openTag) || m_runner->isTagRunning(snapshotTag) || m_runner->isTagRunning(gatesTag);
}

void AttentionController::setStatus(const QString &text)
{
    m_status = text;
    Q_EMIT statusChanged(text);
}

} // namespace blockscope::views
