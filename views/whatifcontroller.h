#pragma once

#include "jobrunner.h"
#include "model/unitmask.h"
#include "prune/unit.h"
#include "prune/whatif.h"

#include <QObject>
#include <QString>

#include <memory>
#include <optional>

namespace blockscope::views {

// What-if toggles: which units are switched off, and the perplexity and KL of that configuration
// against dense. The evaluator (model, a few windows, the dense reference) is built once in the
// background (job "whatif-setup"); each toggle then asks for one evaluation (job "whatif"), and a
// newer question supersedes the one in flight, so clicking fast never queues work or blocks the UI.
class WhatIfController : public QObject
{
    Q_OBJECT
public:
    static constexpr int defaultWindows = 8;

    WhatIfController(JobRunner *runner, QObject *parent = nullptr);

    // Builds an evaluator for these options unless the current one already has them; the mask
    // starts dense for `layers` blocks when the model changes.
    void configure(const WhatIfEvaluator::Options &options, int layers);
    const WhatIfEvaluator::Options &options() const { return m_options; }
    bool isReady() const { return static_cast<bool>(m_evaluator); }

    // Flips a unit: a block flips both sublayers together (both off unless both already are).
    void toggle(UnitKind kind, int layer);
    void setMask(const UnitMask &mask);
    void reset();
    const UnitMask &mask() const { return m_mask; }

    std::optional<WhatIfResult> lastResult() const { return m_last; }
    QString text() const { return m_text; }

    // "PPL 41.2 (dense 32.96) · KL 0.21 · 0.12 s · mask: attn 2".
    static QString formatResult(const WhatIfResult &result);

Q_SIGNALS:
    void maskChanged();
    // The label text changed: a result, "evaluating…", or why there is none.
    void textChanged(const QString &text);
    void evaluated();
    void failed(const QString &message);

private:
    void evaluate();
    void setText(const QString &text);

    JobRunner *m_runner;
    WhatIfEvaluator::Options m_options;
    bool m_configured = false;
    std::shared_ptr<WhatIfEvaluator> m_evaluator;
    // Questions run on the engine lane, one at a time; a newer one replaces a queued one.
    UnitMask m_mask;
    bool m_pending = false; // a toggle arrived before the evaluator was ready
    std::optional<WhatIfResult> m_last;
    QString m_text;
};

} // namespace blockscope::views
