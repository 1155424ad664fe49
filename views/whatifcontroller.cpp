#include "whatifcontroller.h"

#include "format.h"
#include "jobs/jobcontext.h"

#include <QFileInfo>

namespace blockscope::views {

namespace {
const QString setupTag = QStringLiteral("whatif-setup");
const QString evaluateTag = QStringLiteral("whatif");

bool sameOptions(const WhatIfEvaluator::Options &a, const WhatIfEvaluator::Options &b)
{
    return a.modelPath == b.modelPath && a.textPath == b.textPath && a.tokenizerPath == b.tokenizerPath
        && a.protocol == b.protocol && a.context == b.context && a.windows == b.windows && a.device == b.device;
}
} // namespace

WhatIfController::WhatIfController(JobRunner *runner, QObject *parent)
    : QObject(parent)
    , m_runner(runner)
{
}

QString WhatIfController::formatResult(const WhatIfResult &r)
{
    return tr("PPL %1 (dense %2) \u00b7 KL %3 \u00b7 %4 \u00b7 mask: %5")
        .arg(formatStat(r.perplexity), formatStat(r.densePerplexity), formatStat(r.klToDense),
            // Hundredths: a what-if answer on a small model takes a fraction of a second.
            r.seconds < 10 ? QStringLiteral("%1 s").arg(r.seconds, 0, 'f', 2) : formatDuration(r.seconds),
            QString::fromStdString(r.mask.describe()));
}

void WhatIfController::configure(const WhatIfEvaluator::Options &options, int layers)
{
    if (m_configured && sameOptions(options, m_options) && m_evaluator)
        return;
    if (m_configured && sameOptions(options, m_options) && m_runner->isTagRunning(setupTag))
        return;
    const bool modelChanged = !m_configured || options.modelPath != m_options.modelPath || m_mask.layers() != layers;
    m_options = options;
    m_configured = true;
    m_evaluator.reset();
    m_last.reset();
    m_runner->cancelTag(evaluateTag);
    if (modelChanged) {
        m_mask = UnitMask::dense(layers);
        Q_EMIT maskChanged();
    }
    if (options.modelPath.empty() || options.textPath.empty()) {
        setText(options.textPath.empty() ? tr("What-if needs a text: choose a calibration text")
                                         : tr("What-if needs an open model"));
        return;
    }
    setText(tr("Preparing what-if (%1 windows of %2)\u2026")
                .arg(options.windows)
                .arg(QFileInfo(QString::fromStdString(options.textPath)).fileName()));
    m_runner->run<std::shared_ptr<WhatIfEvaluator>>(
        setupTag, tr("Prepare what-if"), [options](JobContext &job) { return WhatIfEvaluator::create(options, job); },
        this,
        [this](std::shared_ptr<WhatIfEvaluator> evaluator) {
            m_evaluator = std::move(evaluator);
            if (m_mask.layers() != m_evaluator->layers()) {
                m_mask = UnitMask::dense(m_evaluator->layers());
                Q_EMIT maskChanged();
            }
            if (m_pending || m_mask.skippedUnits() > 0)
                evaluate();
            else
                setText(tr("What-if ready: click a unit in the layer map or the model tree"));
        },
        [this](const QString &message) {
            setText(tr("What-if unavailable: %1").arg(message));
            Q_EMIT failed(message);
        },
        Lane::Engine);
}

void WhatIfController::toggle(UnitKind kind, int layer)
{
    if (layer < 0 || layer >= m_mask.layers())
        return;
    const auto l = static_cast<std::size_t>(layer);
    UnitMask next = m_mask;
    switch (kind) {
    case UnitKind::Attention: next.skipAttn[l] = !next.skipAttn[l]; break;
    case UnitKind::Mlp: next.skipMlp[l] = !next.skipMlp[l]; break;
    case UnitKind::Block: {
        const bool off = !next.blockSkipped(layer);
        next.skipAttn[l] = next.skipMlp[l] = off;
        break;
    }
    }
    setMask(next);
}

void WhatIfController::setMask(const UnitMask &mask)
{
    m_mask = mask;
    Q_EMIT maskChanged();
    evaluate();
}

void WhatIfController::reset()
{
    setMask(UnitMask::dense(m_mask.layers()));
}

void WhatIfController::evaluate()
{
    if (!m_evaluator) {
        m_pending = true;
        if (!m_configured)
            setText(tr("What-if needs an open model"));
        return;
    }
    m_pending = false;
    setText(tr("Evaluating %1\u2026").arg(QString::fromStdString(m_mask.describe())));
    auto evaluator = m_evaluator;
    const UnitMask mask = m_mask;
    m_runner->run<WhatIfResult>(
        evaluateTag, tr("What-if: %1").arg(QString::fromStdString(mask.describe())),
        [evaluator, mask](JobContext &job) { return evaluator->evaluate(mask, job); }, this,
        [this](WhatIfResult result) {
            m_last = result;
            setText(formatResult(result));
            Q_EMIT evaluated();
        },
        [this](const QString &message) {
            setText(tr("What-if failed: %1").arg(message));
            Q_EMIT failed(message);
        },
        Lane::Engine);
}

void WhatIfController::setText(const QString &text)
{
    m_text = text;
    Q_EMIT textChanged(text);
}

} // namespace blockscope::views
