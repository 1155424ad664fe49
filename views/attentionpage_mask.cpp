// The mask on the attention page: the rule from the controls, one mask per head shown from the
// snapshot's gate logits (or the ground truth, or the static pattern), the statistics of
// blockmask.h, and the heatmaps. Nothing here calls the model: a slider move costs one mask
// selection per head.
#include "attentionpage.h"

#include "format.h"
#include "headstatsmodel.h"
#include "heatmapview.h"
#include "render/heatmapimage.h"
#include "sparse/masksource.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QLabel>
#include <QSlider>
#include <QStandardItemModel>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace blockscope::views {

namespace {

QString fraction(double v)
{
    return std::isnan(v) ? QStringLiteral("\u2014") : QString::number(v, 'f', 3);
}

std::vector<QString> tokenLabels(const sparse::LayerAttentionSnapshot &s)
{
    std::vector<QString> labels;
    labels.reserve(s.tokenTexts.size());
    for (const std::string &t : s.tokenTexts) {
        QString text = QString::fromStdString(t);
        // Whitespace as visible marks, so a space or a line break still labels its row.
        text.replace(QLatin1Char('\n'), QStringLiteral("\u21b5"));
        text.replace(QLatin1Char('\t'), QStringLiteral("\u2192"));
        text.replace(QLatin1Char(' '), QStringLiteral("\u2581"));
        labels.push_back(text.isEmpty() ? QStringLiteral("\u2205") : text);
    }
    return labels;
}
} // namespace

void AttentionPage::setMaskSource(MaskSource source)
{
    m_maskControls->setSource(source);
    updateMask();
}

AttentionPage::MaskSource AttentionPage::maskSource() const
{
    return m_maskControls->source();
}

sparse::MaskRule AttentionPage::maskRule() const
{
    return m_maskControls->rule();
}

void AttentionPage::setMaskRule(const sparse::MaskRule &rule)
{
    m_maskControls->setRule(rule);
    updateMask();
}

void AttentionPage::scheduleMaskUpdate()
{
    // Slider drags deliver many values per frame; the masks follow the latest once per pass of
    // the event loop.
    if (m_maskPending)
        return;
    m_maskPending = true;
    QTimer::singleShot(0, this, &AttentionPage::updateMask);
}

const sparse::HeadAttention *AttentionPage::shownHead() const
{
    if (!m_snapshot)
        return nullptr;
    const int h = head();
    if (h < 0 || h >= static_cast<int>(m_snapshot->heads.size()))
        return &m_snapshot->meanOverHeads;
    return &m_snapshot->heads[static_cast<std::size_t>(h)];
}

std::int64_t AttentionPage::maskCellCount() const
{
    std::int64_t n = 0;
    for (const auto &m : m_masks)
        n += m.count();
    return n;
}

void AttentionPage::updateMask()
{
    m_maskPending = false;
    m_masks.clear();
    m_stats = {};
    std::vector<sparse::MaskStats> perHead;
    if (m_snapshot && m_snapshot->nb > 0 && !m_snapshot->heads.empty()) {
        const auto &s = *m_snapshot;
        const sparse::MaskRule rule = maskRule();
        const MaskSource source = maskSource();
        // Every head, for the per-head table; the maps show one of them or all.
        std::vector<sparse::BlockMask> all;
        try {
            for (const auto &a : s.heads) {
                // Gates the snapshot does not have (none loaded) fall back to the oracle.
                const MaskSource used
                    = source == MaskSource::Gates && a.gateLogits.nb != s.nb ? MaskSource::Oracle : source;
                sparse::BlockMask mask
                    = sparse::headMask(used, {.gateLogits = &a.gateLogits, .truth = &a.truth, .nb = s.nb}, rule);
                perHead.push_back(sparse::maskStats(mask, s.tokens, s.blockSize, a.tokenMass, a.blockMass));
                all.push_back(std::move(mask));
            }
        } catch (const std::exception &e) {
            all.clear();
            perHead.clear();
            setStatus(tr("Mask: %1").arg(QString::fromUtf8(e.what())));
        }
        const int h = head();
        if (h >= 0 && h < static_cast<int>(all.size())) {
            m_stats = perHead[static_cast<std::size_t>(h)];
            m_masks.push_back(all[static_cast<std::size_t>(h)]);
        } else {
            m_stats = sparse::meanOverHeads(perHead);
            m_masks = std::move(all);
        }
    }
    const sparse::MaskStats mean = sparse::meanOverHeads(perHead);
    m_syncing = true;
    m_headStats->setStats(std::move(perHead), mean);
    m_syncing = false;
    selectHeadRow();
    updateStatsLabels();

    // Only the overlays change: the maps and their zoom stay.
    render::MaskOverlay overlay = render::MaskOverlay::fromMasks(m_masks);
    const int heads = static_cast<int>(m_masks.size());
    if (m_maskView->hasData()) {
        m_maskView->setMask(overlay, heads);
        const sparse::MaskRule rule = maskRule();
        m_maskView->setTitle(tr("Mask on \u011c \u00b7 %1 %2 %3")
                                 .arg(m_maskControls->sourceWord(),
                                     rule.kind == sparse::MaskRule::Kind::Density ? tr("\u03c1") : tr("\u03c4"))
                                 .arg(rule.value, 0, 'g', 3));
    }
    if (m_tokenView->hasData() && m_snapshot) {
        m_tokenView->setMask(m_tokenMask->isChecked()
                ? overlay.expandedToTokens(m_snapshot->tokens, m_snapshot->blockSize)
                : render::MaskOverlay(),
            heads);
    }
    Q_EMIT maskUpdated();
}

void AttentionPage::selectHeadRow()
{
    const int row = m_headStats->rowForHead(head());
    m_syncing = true;
    if (row >= 0)
        m_headTable->selectRow(row);
    else
        m_headTable->clearSelection();
    m_syncing = false;
}

void AttentionPage::updateStatsLabels()
{
    if (m_masks.empty()) {
        for (QLabel *l : {m_tileDensity, m_pairDensity, m_sparsity, m_recall, m_emptyRows})
            l->setText(QStringLiteral("\u2014"));
        return;
    }
    const auto &st = m_stats;
    m_tileDensity->setText(tr("%1 (learned %2)").arg(fraction(st.tileDensity), fraction(st.tileDensityLearned)));
    m_pairDensity->setText(fraction(st.pairDensity));
    m_sparsity->setText(
        tr("%1 of tiles, %2 of pairs").arg(formatPercent(1.0 - st.tileDensity), formatPercent(1.0 - st.pairDensity)));
    m_recall->setText(tr("mean %1 \u00b7 p5 %2 \u00b7 min %3")
                          .arg(fraction(st.recallMean), fraction(st.recallP5), fraction(st.recallMin)));
    m_emptyRows->setText(m_masks.size() > 1 ? tr("%1 (all %2 heads)").arg(st.emptyRows).arg(m_masks.size())
                                            : QString::number(st.emptyRows));
}

QString AttentionPage::statsText() const
{
    return QStringLiteral("tile density: %1\npair density: %2\nsparsity: %3\nrecall: %4\nempty rows: %5")
        .arg(m_tileDensity->text(), m_pairDensity->text(), m_sparsity->text(), m_recall->text(), m_emptyRows->text());
}

QString AttentionPage::subtitle() const
{
    if (!m_snapshot)
        return {};
    const auto &s = *m_snapshot;
    const QString model = m_modelPath.isEmpty() ? QString() : QFileInfo(m_modelPath).fileName() + tr(" \u00b7 ");
    const QString who = head() >= 0 ? tr("head %1").arg(head()) : tr("mean over %1 heads").arg(s.heads.size());
    return tr("%1layer %2 \u00b7 %3 \u00b7 %4 tokens \u00b7 B %5 (%6 blocks)")
        .arg(model)
        .arg(s.layer)
        .arg(who)
        .arg(s.tokens)
        .arg(s.blockSize)
        .arg(s.nb);
}

void AttentionPage::setSnapshot(std::shared_ptr<const sparse::LayerAttentionSnapshot> snapshot, bool truncated)
{
    const bool hadGates = m_snapshot && m_snapshot->hasGates;
    m_snapshot = std::move(snapshot);
    m_truncated = truncated;
    if (m_snapshot) {
        updateHeadBox(static_cast<int>(m_snapshot->heads.size()));
        m_syncing = true;
        if (m_snapshot->layer != m_layer->value() && m_snapshot->layer <= m_layer->maximum())
            m_layer->setValue(m_snapshot->layer);
        m_syncing = false;
        // Gates that just arrived are what the user wants to see; without them the oracle.
        m_maskControls->setGatesAvailable(m_snapshot->hasGates, m_snapshot->hasGates && !hadGates);
        m_blockSize->setEnabled(!m_snapshot->hasGates);
    }
    updateViews();
    if (m_snapshot)
        Q_EMIT snapshotShown();
}

void AttentionPage::updateViews()
{
    const sparse::HeadAttention *a = shownHead();
    if (!a || !m_snapshot || m_snapshot->nb <= 0) {
        const QString why = m_modelPath.isEmpty() ? tr("Open a model to see its attention")
                                                  : tr("Type or load a text; the maps appear here");
        m_truthView->clear(why);
        m_gateView->clear(why);
        m_maskView->clear(why);
        m_tokenView->clear(why);
        m_tabs->setTabVisible(m_tabs->indexOf(m_tokenTab), false);
        updateMask();
        return;
    }
    const auto &s = *m_snapshot;
    const QString sub = subtitle();
    auto blockFigure = [&](const QString &title, const sparse::BlockGrid &grid) {
        render::HeatmapFigure f;
        f.title = title;
        f.subtitle = sub;
        f.grid = grid;
        f.valueLabel = tr("share of the row (log scale)");
        return f;
    };
    for (HeatmapView *v : {m_truthView, m_gateView, m_maskView})
        v->setBlockInfo(s.blockSize, s.tokens);
    m_truthView->setFigure(blockFigure(tr("Ground truth \u011c (block max, row-normalised)"), a->truth));
    if (s.hasGates && a->gateProbs.nb == s.nb) {
        m_gateView->setFigure(blockFigure(tr("Gate prediction softmax(S)"), a->gateProbs));
    } else {
        render::HeatmapFigure empty;
        empty.title = tr("Gate prediction");
        m_gateView->setFigure(empty);
        m_gateView->clear(tr("No gates for this model: choose a gate file (Gates\u2026) or train gates in the "
                             "Gate training tab. The mask uses the ground truth meanwhile (oracle)."));
    }
    m_maskView->setFigure(blockFigure(tr("Mask on ground truth"), a->truth));

    const bool tokens = !a->tokenProbs.empty() && a->tokenProbs.size() == static_cast<std::size_t>(s.tokens) * s.tokens;
    m_tabs->setTabVisible(m_tabs->indexOf(m_tokenTab), tokens);
    if (tokens) {
        render::HeatmapFigure f;
        f.title = tr("Token attention P");
        f.subtitle = sub;
        f.grid.nb = s.tokens;
        f.grid.values = a->tokenProbs;
        f.labels = tokenLabels(s);
        f.rowTitle = tr("query token i");
        f.columnTitle = tr("key token j");
        f.valueLabel = tr("probability (log scale)");
        m_tokenView->setBlockInfo(0, s.tokens);
        m_tokenView->setFigure(std::move(f));
    } else {
        m_tokenView->clear(tr("Token-level maps are kept for texts of up to 256 tokens"));
    }
    updateMask();
}

} // namespace blockscope::views
