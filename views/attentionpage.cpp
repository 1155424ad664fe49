#include "attentionpage.h"

#include "formwidgets.h"

#include "attentioncontroller.h"
#include "gatetrainpanel.h"
#include "headstatsmodel.h"
#include "heatmapview.h"
#include "messagebanner.h"
#include "sparsitypanel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace blockscope::views {

namespace {
constexpr qint64 maxTextBytes = 256 * 1024; // the session keeps at most 32k tokens anyway
constexpr int defaultTextChars = 1200;

// The first paragraphs of a text file, up to about `chars` characters.
QString openingParagraphs(const QString &path, int chars)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        return {};
    const QString text = QString::fromUtf8(file.read(64 * 1024));
    QString out;
    for (const QString &paragraph : text.split(QStringLiteral("\n\n"), Qt::SkipEmptyParts)) {
        if (!out.isEmpty())
            out += QStringLiteral("\n\n");
        out += paragraph.trimmed();
        if (out.size() >= chars)
            break;
    }
    return out;
}
} // namespace

AttentionPage::AttentionPage(JobRunner *runner, QWidget *parent)
    : QWidget(parent)
    , m_runner(runner)
    , m_controller(new AttentionController(runner, this))
    , m_banner(new MessageBanner(this))
    , m_maskControls(new MaskRuleControls(this))
    , m_truthView(new HeatmapView(this))
    , m_gateView(new HeatmapView(this))
    , m_maskView(new HeatmapView(this))
    , m_tokenView(new HeatmapView(this))
    , m_headStats(new HeadStatsModel(this))
    , m_sweep(new SparsityPanel(runner, this))
    , m_train(new GateTrainPanel(runner, this))
{
    setObjectName(QStringLiteral("attentionPage"));
    m_truthView->setObjectName(QStringLiteral("truthView"));
    m_gateView->setObjectName(QStringLiteral("gateView"));
    m_maskView->setObjectName(QStringLiteral("maskView"));
    m_tokenView->setObjectName(QStringLiteral("tokenView"));

    m_tabs->setObjectName(QStringLiteral("attentionTabs"));
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(createHeatmaps(), tr("Heatmaps"));
    m_tokenTab = createTokenTab();
    m_tabs->addTab(m_tokenTab, tr("Tokens"));
    m_tabs->addTab(m_sweep, tr("Sparsity sweep"));
    m_tabs->addTab(m_train, tr("Gate training"));
    m_tabs->setTabVisible(m_tabs->indexOf(m_tokenTab), false);

    auto *controls = new QScrollArea(this);
    controls->setWidget(createControls());
    controls->setWidgetResizable(true);
    controls->setFrameShape(QFrame::NoFrame);
    controls->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    controls->setMinimumWidth(300);
    controls->setMaximumWidth(360);

    layOutPage(this, m_banner, controls, m_tabs);

    m_textDebounce->setSingleShot(true);
    m_textDebounce->setInterval(700);
    connect(m_textDebounce, &QTimer::timeout, this, &AttentionPage::compute);
    connect(m_text, &QPlainTextEdit::textChanged, m_textDebounce, qOverload<>(&QTimer::start));
    connect(m_layer, &QSpinBox::valueChanged, this, [this] {
        if (!m_syncing)
            compute();
    });
    connect(m_blockSize, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_syncing)
            compute();
    });
    connect(m_head, &QComboBox::currentIndexChanged, this, [this] {
        if (m_syncing)
            return;
        updateViews();
        selectHeadRow();
    });

    connect(m_controller, &AttentionController::snapshotReady, this, &AttentionPage::onSnapshotReady);
    connect(m_controller, &AttentionController::statusChanged, this, [this](const QString &text) {
        if (!text.isEmpty())
            setStatus(text);
    });
    connect(m_controller, &AttentionController::failed, this, [this](const QString &message, bool gates) {
        m_banner->showMessage(MessageBanner::Kind::Error, message);
        if (gates)
            updateGatesLabel(QString());
        else
            Q_EMIT snapshotFailed(message);
    });
    connect(
        m_controller, &AttentionController::gatesChanged, this, [this](const QString &path, const QString &summary) {
            m_banner->hide();
            updateGatesLabel(summary);
            m_sweep->setGates(path);
        });
    connect(m_train, &GateTrainPanel::gatesWritten, this, &AttentionPage::setGatesFile);

    // The three block maps zoom and pan together.
    const std::vector<HeatmapView *> linked{m_truthView, m_gateView, m_maskView};
    for (HeatmapView *from : linked)
        for (HeatmapView *to : linked)
            if (from != to)
                connect(from, &HeatmapView::viewChanged, to, &HeatmapView::setZoomAndCentre);

    // The three block maps share the log scale: one colour bar, on the right of the last.
    m_truthView->setColourBarVisible(false);
    m_gateView->setColourBarVisible(false);

    updateHeadBox(0);
    updateGatesLabel(QString());
    updateViews();
    setStatus(tr("Open a model to see its attention"));
}

AttentionPage::~AttentionPage() = default;

QWidget *AttentionPage::createControls()
{
    auto *panel = new QWidget(this);

    m_text->setObjectName(QStringLiteral("attentionText"));
    m_text->setPlaceholderText(tr("Type or paste a text, or load one"));
    m_text->setMinimumHeight(110);
    m_text->setMaximumHeight(170);
    auto *load = new QPushButton(tr("Load text\u2026"), panel);
    connect(load, &QPushButton::clicked, this, &AttentionPage::chooseText);
    auto *computeButton = new QPushButton(tr("Compute"), panel);
    computeButton->setToolTip(tr("Run the model on the text up to the layer (also happens as you type)"));
    connect(computeButton, &QPushButton::clicked, this, &AttentionPage::compute);
    auto *textButtons = new QHBoxLayout;
    textButtons->addWidget(load);
    textButtons->addStretch(1);
    textButtons->addWidget(computeButton);

    m_layer->setObjectName(QStringLiteral("attentionLayer"));
    m_layer->setRange(0, 0);
    m_head->setObjectName(QStringLiteral("attentionHead"));
    m_blockSize->setObjectName(QStringLiteral("attentionBlockSize"));
    for (int b : {16, 32, 64})
        m_blockSize->addItem(QString::number(b), b);
    m_blockSize->setCurrentIndex(2);
    m_blockSize->setToolTip(tr("Tokens per block B without gates (gates bring their own)"));
    auto *where = new QFormLayout;
    where->addRow(tr("Layer"), m_layer);
    where->addRow(tr("Head"), m_head);
    where->addRow(tr("Block size"), m_blockSize);

    m_gatesLabel->setObjectName(QStringLiteral("gatesLabel"));
    m_gatesLabel->setWordWrap(true);
    m_gatesLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *chooseGatesButton = new QPushButton(tr("Gates\u2026"), panel);
    chooseGatesButton->setToolTip(tr("A .seergate.safetensors file trained for this model"));
    connect(chooseGatesButton, &QPushButton::clicked, this, &AttentionPage::chooseGates);
    auto *noGates = new QPushButton(tr("None"), panel);
    noGates->setToolTip(tr("Drop the gates: ground truth only"));
    connect(noGates, &QPushButton::clicked, this, [this] { setGatesFile(QString()); });
    auto *gateButtons = new QHBoxLayout;
    gateButtons->addWidget(chooseGatesButton);
    gateButtons->addWidget(noGates);
    gateButtons->addStretch(1);

    connect(m_maskControls, &MaskRuleControls::changed, this, &AttentionPage::scheduleMaskUpdate);

    auto *statsBox = new QGroupBox(tr("What the mask keeps"), panel);
    statsBox->setObjectName(QStringLiteral("maskStatsBox"));
    auto *statsForm = new QFormLayout(statsBox);
    const std::vector<std::pair<QLabel *, QString>> stats{{m_tileDensity, tr("Tile density")},
        {m_pairDensity, tr("Pair density")}, {m_sparsity, tr("Sparsity")}, {m_recall, tr("Recall")},
        {m_emptyRows, tr("Empty rows")}};
    for (const auto &[label, name] : stats) {
        label->setTextInteractionFlags(Qt::TextSelectableByMouse);
        label->setWordWrap(true);
        statsForm->addRow(name, label);
    }
    m_tileDensity->setObjectName(QStringLiteral("statTileDensity"));
    m_pairDensity->setObjectName(QStringLiteral("statPairDensity"));
    m_sparsity->setObjectName(QStringLiteral("statSparsity"));
    m_recall->setObjectName(QStringLiteral("statRecall"));
    m_emptyRows->setObjectName(QStringLiteral("statEmptyRows"));
    m_tileDensity->setToolTip(
        tr("Selected causal tiles / nb(nb+1)/2 (forced rows included; learned only in brackets)"));
    m_pairDensity->setToolTip(
        tr("Causal token pairs inside selected tiles / N(N+1)/2: proportional to attention FLOPs"));
    m_recall->setToolTip(tr("Share of each token's true attention mass inside the selected tiles: mean, "
                            "5th percentile and minimum over tokens"));
    m_emptyRows->setToolTip(tr("Tokens with no selected key: their attention output is 0"));

    m_status->setObjectName(QStringLiteral("attentionStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *layout = new QVBoxLayout(panel);
    layout->setContentsMargins(0, 0, 4, 0);
    layout->addWidget(new QLabel(tr("<b>Text</b>"), panel));
    layout->addWidget(m_text);
    layout->addLayout(textButtons);
    layout->addLayout(where);
    layout->addWidget(new QLabel(tr("<b>Gates</b>"), panel));
    layout->addWidget(m_gatesLabel);
    layout->addLayout(gateButtons);
    layout->addWidget(m_maskControls);
    layout->addWidget(statsBox);
    layout->addWidget(m_status);
    layout->addStretch(1);
    return panel;
}

QWidget *AttentionPage::viewPanel(HeatmapView *view, View kind)
{
    auto *panel = new QWidget(this);
    auto *fit = new QToolButton(panel);
    fit->setText(tr("Fit"));
    fit->setToolTip(tr("Show the whole map (0); zoom with the wheel or +/\u2212, drag to pan"));
    connect(fit, &QToolButton::clicked, view, &HeatmapView::fitToView);
    auto *exportButton = new QToolButton(panel);
    exportButton->setText(tr("Export\u2026"));
    exportButton->setToolTip(tr("The map as PNG, SVG or PDF (title, axes, colour bar), or its matrix as CSV"));
    connect(exportButton, &QToolButton::clicked, this, [this, kind] { exportDialog(kind); });
    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(0, 0, 0, 0);
    bar->addStretch(1);
    bar->addWidget(fit);
    bar->addWidget(exportButton);
    auto *layout = new QVBoxLayout(panel);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addLayout(bar);
    layout->addWidget(view, 1);
    return panel;
}

QWidget *AttentionPage::createHeatmaps()
{
    auto *split = new QSplitter(Qt::Horizontal, this);
    split->setObjectName(QStringLiteral("heatmapSplitter"));
    split->addWidget(viewPanel(m_truthView, View::Truth));
    split->addWidget(viewPanel(m_gateView, View::Gate));
    split->addWidget(viewPanel(m_maskView, View::Mask));
    split->setChildrenCollapsible(false);
    m_heatmapSplit = split;

    // Every head of the layer under the current mask; a row shows its head above.
    m_headTable->setObjectName(QStringLiteral("headStatsTable"));
    m_headTable->setModel(m_headStats);
    m_headTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_headTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_headTable->setAlternatingRowColors(true);
    m_headTable->verticalHeader()->setVisible(false);
    m_headTable->verticalHeader()->setDefaultSectionSize(m_headTable->fontMetrics().height() + 6);
    m_headTable->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_headTable->setToolTip(tr("What the mask keeps in each head; click a row to show that head"));
    connect(m_headTable->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
        [this](const QModelIndex &current) {
            if (!m_syncing && current.isValid())
                setHead(current.data(HeadStatsModel::HeadRole).toInt());
        });
    auto *column = new QSplitter(Qt::Vertical, this);
    column->addWidget(split);
    column->addWidget(m_headTable);
    column->setStretchFactor(0, 3);
    column->setStretchFactor(1, 1);
    column->setChildrenCollapsible(false);
    m_heatmapColumn = column;
    return column;
}

QWidget *AttentionPage::createTokenTab()
{
    auto *panel = new QWidget(this);
    m_tokenMask->setChecked(true);
    connect(m_tokenMask, &QCheckBox::toggled, this, &AttentionPage::updateViews);
    auto *note = new QLabel(tr("Token attention P of the head shown (softmax over keys j \u2264 i); hover a "
                               "cell for the two tokens"),
        panel);
    note->setWordWrap(true);
    auto *layout = new QVBoxLayout(panel);
    layout->setContentsMargins(0, 0, 0, 0);
    auto *bar = new QHBoxLayout;
    bar->addWidget(note, 1);
    bar->addWidget(m_tokenMask);
    layout->addLayout(bar);
    layout->addWidget(viewPanel(m_tokenView, View::Tokens), 1);
    return panel;
}

void AttentionPage::setModel(const QString &path, int layers, int heads, qint64 context)
{
    const bool changed = path != m_modelPath;
    m_modelPath = path;
    m_layers = layers;
    m_heads = heads;
    m_context = context;
    m_syncing = true;
    m_layer->setRange(0, std::max(layers - 1, 0));
    // Short-context models have few 64-token blocks; 16 is the tiny recipe's block size.
    if (changed)
        m_blockSize->setCurrentIndex(context > 0 && context <= 2048 ? 0 : 2);
    m_syncing = false;
    updateHeadBox(heads);
    m_sweep->setModel(path);
    m_train->setModel(path);
    if (changed) {
        m_snapshot.reset();
        updateViews();
        if (path.isEmpty()) {
            m_controller->configure(QString());
            return;
        }
        m_computeWanted = true;
        setStatus(tr("Model: %1").arg(QFileInfo(path).fileName()));
        if (isVisible())
            compute();
    }
}

void AttentionPage::setDefaultText(const QString &path)
{
    m_train->setDefaultText(path);
    m_sweep->setDefaultText(path);
    if (m_text->toPlainText().isEmpty() && !path.isEmpty())
        setText(openingParagraphs(path, defaultTextChars));
}

void AttentionPage::setText(const QString &text)
{
    m_text->setPlainText(text);
}

QString AttentionPage::text() const
{
    return m_text->toPlainText();
}

bool AttentionPage::loadTextFile(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
        if (error)
            *error = tr("Cannot read %1: %2").arg(path, file.errorString());
        return false;
    }
    setText(QString::fromUtf8(file.read(maxTextBytes)));
    if (!file.atEnd())
        setStatus(tr("Loaded the first %1 KiB of %2").arg(maxTextBytes / 1024).arg(QFileInfo(path).fileName()));
    return true;
}

void AttentionPage::chooseText()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Load Text"), QString(), tr("Text files (*.txt *.md *.raw);;All files (*)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!loadTextFile(path, &error))
        m_banner->showMessage(MessageBanner::Kind::Error, error);
}

void AttentionPage::setLayer(int layer)
{
    m_layer->setValue(layer);
}

int AttentionPage::layer() const
{
    return m_layer->value();
}

void AttentionPage::setHead(int head)
{
    const int index = m_head->findData(head);
    if (index >= 0)
        m_head->setCurrentIndex(index);
}

int AttentionPage::head() const
{
    return m_head->currentIndex() >= 0 ? m_head->currentData().toInt() : -1;
}

void AttentionPage::setBlockSize(int blockSize)
{
    const int index = m_blockSize->findData(blockSize);
    if (index >= 0)
        m_blockSize->setCurrentIndex(index);
}

int AttentionPage::blockSize() const
{
    return m_blockSize->currentData().toInt();
}

void AttentionPage::updateHeadBox(int heads)
{
    if (heads == m_head->count() - 1 && m_head->count() > 0)
        return;
    const int current = head();
    m_syncing = true;
    m_head->clear();
    m_head->addItem(tr("Mean over heads"), -1);
    for (int h = 0; h < heads; ++h)
        m_head->addItem(tr("Head %1").arg(h), h);
    const int index = m_head->findData(current);
    m_head->setCurrentIndex(index >= 0 ? index : 0);
    m_syncing = false;
}

void AttentionPage::setGatesFile(const QString &path)
{
    if (m_modelPath.isEmpty()) {
        m_controller->configure(QString(), path);
        return;
    }
    ensureSession();
    m_controller->setGates(path);
}

QString AttentionPage::gatesFile() const
{
    return m_controller->gatesPath();
}

void AttentionPage::chooseGates()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Gates"), QFileInfo(gatesFile()).absolutePath(),
        tr("SeerAttention gates (*.seergate.safetensors *.safetensors);;All files (*)"));
    if (!path.isEmpty())
        setGatesFile(path);
}

void AttentionPage::updateGatesLabel(const QString &summary)
{
    const QString path = m_controller->gatesPath();
    if (path.isEmpty()) {
        m_gatesLabel->setText(tr("None: ground truth only (train gates in the Gate training tab)"));
        m_gatesLabel->setToolTip(QString());
    } else {
        m_gatesLabel->setText(summary.isEmpty()
                ? QFileInfo(path).fileName()
                : QStringLiteral("%1<br><small>%2</small>")
                      .arg(QFileInfo(path).fileName().toHtmlEscaped(), summary.toHtmlEscaped()));
        m_gatesLabel->setToolTip(path);
    }
}

void AttentionPage::ensureSession()
{
    m_controller->configure(m_modelPath, m_controller->gatesPath());
}

void AttentionPage::compute()
{
    m_textDebounce->stop();
    if (m_modelPath.isEmpty()) {
        setStatus(tr("Open a model to see its attention"));
        return;
    }
    if (m_text->toPlainText().trimmed().isEmpty()) {
        setStatus(tr("Type or load a text"));
        return;
    }
    m_computeWanted = false;
    ensureSession();
    sparse::SnapshotOptions options;
    options.blockSize = blockSize();
    m_controller->request(m_text->toPlainText(), layer(), options);
}

void AttentionPage::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (!m_splitSized) {
        // Once laid out: the last map carries the shared colour bar, so it gets that much more
        // room and the three plots come out the same size.
        m_splitSized = true;
        QTimer::singleShot(0, this, [this] {
            const int total = m_heatmapSplit->width() - 2 * m_heatmapSplit->handleWidth();
            const int extra = std::min(m_maskView->width() - m_maskView->plotArea().width()
                    - (m_truthView->width() - m_truthView->plotArea().width()),
                total / 4);
            const int each = (total - std::max(extra, 0)) / 3;
            m_heatmapSplit->setSizes({each, each, total - 2 * each});
            // The maps as tall as their width lets the plots be; the per-head table below.
            const int toolbar = m_truthView->parentWidget()->height() - m_truthView->height();
            const int maps = toolbar + m_maskView->preferredHeight(total - 2 * each);
            const int height = m_heatmapColumn->height() - m_heatmapColumn->handleWidth();
            m_heatmapColumn->setSizes({std::min(maps, height - 80), std::max(height - maps, 80)});
        });
    }
    if (m_computeWanted)
        QTimer::singleShot(0, this, &AttentionPage::compute);
}

void AttentionPage::onSnapshotReady()
{
    const auto result = m_controller->lastResult();
    if (!result || !result->snapshot)
        return;
    m_banner->hide();
    setSnapshot(result->snapshot, result->truncated);
    const auto &s = *result->snapshot;
    setStatus(tr("Layer %1: %2 tokens in %3 blocks of %4 \u00b7 %5 s%6")
                  .arg(s.layer)
                  .arg(s.tokens)
                  .arg(s.nb)
                  .arg(s.blockSize)
                  .arg(result->seconds, 0, 'f', 2)
                  .arg(result->truncated ? tr(" \u00b7 the text was cut to fit the model") : QString()));
}

void AttentionPage::setStatus(const QString &text)
{
    m_status->setText(text);
}

QString AttentionPage::statusText() const
{
    return m_status->text();
}

HeatmapView *AttentionPage::view(View view) const
{
    switch (view) {
    case View::Truth: return m_truthView;
    case View::Gate: return m_gateView;
    case View::Mask: return m_maskView;
    case View::Tokens: return m_tokenView;
    }
    return nullptr;
}

bool AttentionPage::hasTokenView() const
{
    return m_tabs->isTabVisible(m_tabs->indexOf(m_tokenTab)) && m_tokenView->hasData();
}

} // namespace blockscope::views
