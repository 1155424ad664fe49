#pragma once

#include "jobrunner.h"
#include "maskrulecontrols.h"
#include "sparse/attentionsnapshot.h"
#include "sparse/blockmask.h"
#include "sparse/masksource.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QPlainTextEdit>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QWidget>

#include <memory>
#include <vector>

class QDoubleSpinBox;
class QPushButton;
class QSlider;
class QSplitter;

namespace blockscope::views {

class AttentionController;
class GateTrainPanel;
class HeadStatsModel;
class HeatmapView;
class MessageBanner;
class SparsityPanel;

// The attention page (seerattention.md §5, §7): a text and a layer give one snapshot of the true
// block attention and the gates' prediction for every head; the head picker (or the mean over
// heads), the mask source and rule, and the density or threshold slider then re-select the mask
// and recompute tile and pair density, recall and empty rows from blockmask.h at once, without
// the model. Three heatmaps side by side (ground truth, gate prediction, mask on the truth), a
// token-level map for short texts, the perplexity-against-sparsity sweep and gate training in
// their own tabs.
// Split by feature: attentionpage.cpp (layout, text, layer, session), _mask.cpp (rule, masks,
// statistics, heatmaps), _export.cpp (images and CSV).
class AttentionPage : public QWidget
{
    Q_OBJECT
public:
    enum class View { Truth, Gate, Mask, Tokens };
    using MaskSource = sparse::MaskSource; // the page offers gates, oracle and static

    explicit AttentionPage(JobRunner *runner, QWidget *parent = nullptr);
    ~AttentionPage() override;

    // The model the page's session opens (lazily, when the page is first shown or asked to
    // compute); empty: none. `context` picks the default block size without gates.
    void setModel(const QString &path, int layers, int heads, qint64 context = 0);
    QString modelPath() const { return m_modelPath; }
    // The text the training and sweep forms start with, and the first part of which the text box
    // starts with when empty.
    void setDefaultText(const QString &path);

    void setText(const QString &text);
    QString text() const;
    bool loadTextFile(const QString &path, QString *error = nullptr);
    void setLayer(int layer);
    int layer() const;
    // -1: the mean over heads.
    void setHead(int head);
    int head() const;
    void setBlockSize(int blockSize);
    int blockSize() const;
    // Loads gates into the session (errors in the banner); empty: none.
    void setGatesFile(const QString &path);
    QString gatesFile() const;

    // Asks the session for the current text and layer (superseding the question in flight).
    void compute();
    // Shows a snapshot (the session's results come this way; tests give synthetic ones).
    void setSnapshot(std::shared_ptr<const sparse::LayerAttentionSnapshot> snapshot, bool truncated = false);
    std::shared_ptr<const sparse::LayerAttentionSnapshot> snapshot() const { return m_snapshot; }

    void setMaskSource(MaskSource source);
    MaskSource maskSource() const;
    void setMaskRule(const sparse::MaskRule &rule);
    sparse::MaskRule maskRule() const;
    // One mask per head shown (one, or every head for the mean), and what they keep.
    const std::vector<sparse::BlockMask> &masks() const { return m_masks; }
    std::int64_t maskCellCount() const;
    const sparse::MaskStats &maskStats() const { return m_stats; }
    // The statistics as the labels show them, one "name: value" per line.
    QString statsText() const;
    bool hasTokenView() const;

    HeatmapView *view(View view) const;
    // PNG, SVG or PDF of the view's figure, or CSV of its matrix, by the file's suffix.
    bool exportView(View view, const QString &path, QString *error = nullptr) const;

    QString statusText() const;
    AttentionController *controller() const { return m_controller; }
    MessageBanner *banner() const { return m_banner; }
    QTabWidget *tabs() const { return m_tabs; }
    QSlider *slider() const { return m_maskControls->slider(); }
    QComboBox *modeBox() const { return m_maskControls->modeBox(); }
    QComboBox *headBox() const { return m_head; }
    QComboBox *sourceBox() const { return m_maskControls->sourceBox(); }
    QSpinBox *layerBox() const { return m_layer; }
    GateTrainPanel *trainPanel() const { return m_train; }
    HeadStatsModel *headStats() const { return m_headStats; }
    QTableView *headTable() const { return m_headTable; }
    SparsityPanel *sweepPanel() const { return m_sweep; }

Q_SIGNALS:
    void snapshotShown();
    void snapshotFailed(const QString &message);
    // The mask changed (rule, source, head or a new snapshot) and the statistics with it.
    void maskUpdated();

protected:
    void showEvent(QShowEvent *event) override;

private:
    // attentionpage.cpp
    QWidget *createControls();
    QWidget *createHeatmaps();
    QWidget *createTokenTab();
    QWidget *viewPanel(HeatmapView *view, View kind);
    void ensureSession();
    void onSnapshotReady();
    void updateHeadBox(int heads);
    void setStatus(const QString &text);
    void updateGatesLabel(const QString &summary);
    void chooseGates();
    void chooseText();

    // attentionpage_mask.cpp
    void scheduleMaskUpdate();
    void updateMask();
    void updateViews();
    void updateStatsLabels();
    void selectHeadRow();
    const sparse::HeadAttention *shownHead() const;
    QString subtitle() const;

    // attentionpage_export.cpp
    void exportDialog(View view);

    JobRunner *m_runner;
    AttentionController *m_controller;
    QString m_modelPath;
    int m_layers = 0;
    int m_heads = 0;
    qint64 m_context = 0;
    bool m_computeWanted = false;
    bool m_truncated = false;
    std::shared_ptr<const sparse::LayerAttentionSnapshot> m_snapshot;
    std::vector<sparse::BlockMask> m_masks;
    sparse::MaskStats m_stats;
    bool m_maskPending = false;
    bool m_syncing = false;
    bool m_splitSized = false;

    MessageBanner *m_banner;
    QPlainTextEdit *m_text = new QPlainTextEdit(this);
    QTimer *m_textDebounce = new QTimer(this);
    QSpinBox *m_layer = new QSpinBox(this);
    QComboBox *m_head = new QComboBox(this);
    QComboBox *m_blockSize = new QComboBox(this);
    QLabel *m_gatesLabel = new QLabel(this);
    MaskRuleControls *m_maskControls;
    QCheckBox *m_tokenMask = new QCheckBox(tr("Show the block mask on the tokens"), this);
    QLabel *m_tileDensity = new QLabel(this);
    QLabel *m_pairDensity = new QLabel(this);
    QLabel *m_sparsity = new QLabel(this);
    QLabel *m_recall = new QLabel(this);
    QLabel *m_emptyRows = new QLabel(this);
    QLabel *m_status = new QLabel(this);
    QTabWidget *m_tabs = new QTabWidget(this);
    QSplitter *m_heatmapSplit = nullptr;
    QSplitter *m_heatmapColumn = nullptr;
    QWidget *m_tokenTab;
    HeatmapView *m_truthView;
    HeatmapView *m_gateView;
    HeatmapView *m_maskView;
    HeatmapView *m_tokenView;
    HeadStatsModel *m_headStats;
    QTableView *m_headTable = new QTableView(this);
    SparsityPanel *m_sweep;
    GateTrainPanel *m_train;
};

} // namespace blockscope::views
