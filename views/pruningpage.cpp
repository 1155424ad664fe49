#include "pruningpage.h"

#include "formwidgets.h"

#include "charts/tracechart.h"
#include "layermap.h"
#include "messagebanner.h"
#include "pruneform.h"
#include "runcomparemodel.h"
#include "runlistmodel.h"
#include "tracetablemodel.h"
#include "whatifcontroller.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace blockscope::views {

namespace {
QString defaultExperimentPath()
{
    const QString dir
        = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/experiments");
    return dir + QLatin1Char('/') + QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"))
        + QStringLiteral(".h5");
}
} // namespace

PruningPage::PruningPage(JobRunner *runner, QWidget *parent)
    : QWidget(parent)
    , m_runner(runner)
    , m_banner(new MessageBanner(this))
    , m_form(new PruneForm(this))
    , m_controls(new JobControls(runner, tr("Run"),
          {QStringLiteral("runPruning"), QStringLiteral("cancelPruning"), QStringLiteral("pruningStatus")}, this))
    , m_compare(new RunCompareModel(this))
    , m_runList(new RunListModel(this))
    , m_whatIf(new WhatIfController(runner, this))
{
    setObjectName(QStringLiteral("pruningPage"));
    setDocument(new ExperimentDocument(runner, this));
    m_form->setExperimentPath(defaultExperimentPath());

    m_controls->runButton()->setDefault(true);
    m_controls->cancelButton()->setToolTip(tr("Stop the search; the steps so far stay on the chart and in the file"));
    connect(m_controls->runButton(), &QPushButton::clicked, this, &PruningPage::run);
    connect(m_controls->cancelButton(), &QPushButton::clicked, this, &PruningPage::cancel);
    m_whatIfLabel->setObjectName(QStringLiteral("whatIfResult"));
    m_whatIfLabel->setWordWrap(true);
    m_whatIfLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_whatIfLabel->setText(tr("Open a model to try what-if toggles"));

    auto *formScroll = new QScrollArea(this);
    formScroll->setWidget(m_form);
    formScroll->setWidgetResizable(true);
    formScroll->setFrameShape(QFrame::NoFrame);
    formScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    auto *whatIfTitle = new QLabel(tr("<b>What-if</b> (click a cell of the layer map, or right-click a block, "
                                      "attention or MLP in the model tree)"),
        this);
    whatIfTitle->setWordWrap(true);
    auto *resetWhatIf = new QPushButton(tr("Reset what-if to dense"), this);
    connect(resetWhatIf, &QPushButton::clicked, m_whatIf, &WhatIfController::reset);
    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 4, 0);
    leftLayout->addWidget(formScroll, 1);
    leftLayout->addWidget(m_controls);
    leftLayout->addSpacing(8);
    leftLayout->addWidget(whatIfTitle);
    leftLayout->addWidget(m_whatIfLabel);
    leftLayout->addWidget(resetWhatIf);
    left->setMinimumWidth(300);
    left->setMaximumWidth(380);

    // The layer map keeps the width it asks for; the run list takes the rest.
    m_bottom = new QSplitter(Qt::Horizontal, this);
    m_bottom->addWidget(createMapPanel());
    m_bottom->addWidget(createRunsPanel());
    m_bottom->setStretchFactor(0, 0);
    m_bottom->setStretchFactor(1, 1);
    auto *right = new QSplitter(Qt::Vertical, this);
    right->addWidget(createChartPanel());
    right->addWidget(m_bottom);
    right->setStretchFactor(0, 5);
    right->setStretchFactor(1, 4);
    right->setSizes({5000, 4000}); // proportions: the chart gets the larger share
    right->setChildrenCollapsible(false);

    layOutPage(this, m_banner, left, right);

    connect(m_controls, &JobControls::stopped, this, [this] {
        // Finished and failed jobs have been handled by their callbacks already.
        if (m_liveKey != 0)
            endRun(m_liveKey, QStringLiteral("cancelled"), QString());
    });
    connect(m_controls, &JobControls::stage, this, [this](const QString &stage) {
        m_runStage = stage;
        m_controls->setStatus(tr("Running: %1").arg(stage));
    });

    connect(m_map, &LayerMap::unitToggled, m_whatIf, &WhatIfController::toggle);
    connect(m_whatIf, &WhatIfController::maskChanged, this, [this] { m_map->setWhatIfMask(m_whatIf->mask()); });
    connect(m_whatIf, &WhatIfController::textChanged, m_whatIfLabel, &QLabel::setText);
    // Typing a path or picking a protocol rebuilds the what-if evaluator once the form is still.
    m_whatIfDebounce->setSingleShot(true);
    m_whatIfDebounce->setInterval(400);
    connect(m_whatIfDebounce, &QTimer::timeout, this, &PruningPage::configureWhatIf);
    connect(m_form, &PruneForm::changed, m_whatIfDebounce, qOverload<>(&QTimer::start));

    m_map->setData(LayerMapData::dense(0));
    updateButtons();
    m_controls->setStatus(tr("Choose a method and press Run."));
}

PruningPage::~PruningPage()
{
    // The chart's mappers watch the trace models this page owns.
    m_chart->clearRuns();
}

QWidget *PruningPage::createChartPanel()
{
    auto *panel = new QWidget(this);
    m_chart = new TraceChart(panel);
    m_metric = new QComboBox(panel);
    for (auto m : {TraceChart::Metric::Perplexity, TraceChart::Metric::KlToDense, TraceChart::Metric::Score})
        m_metric->addItem(TraceChart::metricName(m), static_cast<int>(m));
    connect(m_metric, &QComboBox::currentIndexChanged, this,
        [this] { m_chart->setMetric(static_cast<TraceChart::Metric>(m_metric->currentData().toInt())); });
    m_logScale = new QCheckBox(tr("Log scale"), panel);
    m_logScale->setToolTip(tr("Logarithmic perplexity axis (pruned models' perplexity grows fast)"));
    connect(m_logScale, &QCheckBox::toggled, m_chart, &TraceChart::setLogScale);
    auto *exportButton = new QPushButton(tr("Export chart\u2026"), panel);
    exportButton->setToolTip(tr("PNG, SVG or PDF, with title, axes and legend"));
    connect(exportButton, &QPushButton::clicked, this, &PruningPage::exportChartDialog);

    auto *bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Metric"), panel));
    bar->addWidget(m_metric);
    bar->addWidget(m_logScale);
    bar->addStretch(1);
    bar->addWidget(exportButton);
    auto *layout = new QVBoxLayout(panel);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(bar);
    layout->addWidget(m_chart, 1);
    panel->setMinimumHeight(260);
    return panel;
}

QWidget *PruningPage::createMapPanel()
{
    m_mapStack = new QStackedWidget(this);
    m_map = new LayerMap(m_mapStack);
    auto *mapScroll = new QScrollArea(m_mapStack);
    mapScroll->setWidget(m_map);
    mapScroll->setWidgetResizable(true);
    mapScroll->setFrameShape(QFrame::NoFrame);
    m_mapStack->addWidget(mapScroll);

    auto *compare = new QWidget(m_mapStack);
    compare->setObjectName(QStringLiteral("compareView"));
    m_compareA = new LayerMap(compare);
    m_compareB = new LayerMap(compare);
    m_compareA->setInteractive(false);
    m_compareB->setInteractive(false);
    auto *maps = new QHBoxLayout(compare);
    maps->setContentsMargins(0, 0, 0, 0);
    maps->addWidget(m_compareA);
    maps->addWidget(m_compareB);
    m_mapStack->addWidget(compare);
    setMapPage(0);
    return m_mapStack;
}

QWidget *PruningPage::createRunsPanel()
{
    auto *panel = new QWidget(this);
    m_runTable = makeTable(panel);
    m_runTable->setObjectName(QStringLiteral("runTable"));
    m_runTable->setModel(m_runList);
    m_runTable->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_runTable->horizontalHeader()->setStretchLastSection(true);
    // Columns fit their contents whenever runs come, go or change (the removed units capped, the
    // tooltip has them all).
    auto fit = [this] {
        m_runTable->resizeColumnsToContents();
        m_runTable->setColumnWidth(
            RunListModel::Removed, std::min(m_runTable->columnWidth(RunListModel::Removed), 220));
    };
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(m_runList, signal, m_runTable, fit, Qt::QueuedConnection);
    connect(m_runList, &QAbstractItemModel::dataChanged, m_runTable, fit, Qt::QueuedConnection);
    connect(m_runList, &QAbstractItemModel::modelReset, m_runTable, fit, Qt::QueuedConnection);
    m_runTable->setToolTip(tr("Select one run to see its layer map, two (Ctrl+click) to compare them"));
    connect(
        m_runTable->selectionModel(), &QItemSelectionModel::selectionChanged, this, &PruningPage::updateSelectionView);
    m_stepTable = makeTable(panel);
    m_stepTable->setObjectName(QStringLiteral("stepTable"));
    m_stepTable->horizontalHeader()->setStretchLastSection(true);
    m_tabs = new QTabWidget(panel);
    m_tabs->addTab(m_runTable, tr("Runs"));
    m_tabs->addTab(m_stepTable, tr("Steps"));
    // The comparison of two selected runs sits under the run list, so the selection stays in
    // view while the two layer maps take the map panel's whole height.
    m_compareTable = makeTable(panel);
    m_compareTable->setObjectName(QStringLiteral("compareTable"));
    m_compareTable->setModel(m_compare);
    m_compareTable->verticalHeader()->setVisible(true);
    m_compareTable->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_compareTable->setSelectionMode(QAbstractItemView::NoSelection);
    m_compareTable->hide();
    auto *split = new QSplitter(Qt::Vertical, panel);
    split->addWidget(m_tabs);
    split->addWidget(m_compareTable);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 3);
    split->setChildrenCollapsible(false);

    auto *open = new QPushButton(tr("Open experiment\u2026"), panel);
    connect(open, &QPushButton::clicked, this, &PruningPage::openExperimentDialog);
    auto *exportTrace = new QToolButton(panel);
    exportTrace->setText(tr("Export trace"));
    exportTrace->setToolTip(tr("The selected run's steps as CSV or JSON"));
    exportTrace->setPopupMode(QToolButton::InstantPopup);
    auto *menu = new QMenu(exportTrace);
    menu->addAction(tr("CSV\u2026"), this, [this] { exportTraceDialog(QStringLiteral("csv")); });
    menu->addAction(tr("JSON\u2026"), this, [this] { exportTraceDialog(QStringLiteral("json")); });
    exportTrace->setMenu(menu);
    auto *bar = new QHBoxLayout;
    bar->addWidget(open);
    bar->addWidget(exportTrace);
    bar->addStretch(1);
    auto *layout = new QVBoxLayout(panel);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(bar);
    layout->addWidget(split, 1);
    return panel;
}

void PruningPage::setModel(const QString &path, int layers)
{
    m_modelPath = path;
    m_layers = layers;
    if (selectedRuns().isEmpty())
        showLayerMapFor(-1);
    updateButtons();
    configureWhatIf();
}

void PruningPage::setDefaultCalibrationText(const QString &path)
{
    if (m_form->calibrationText().isEmpty())
        m_form->setCalibrationText(path);
}

void PruningPage::configureWhatIf()
{
    WhatIfEvaluator::Options o;
    o.modelPath = m_modelPath.toStdString();
    const QString text = m_form->calibrationText();
    o.textPath = QFileInfo(text).isFile() ? text.toStdString() : std::string();
    o.protocol = m_form->protocol().toStdString();
    o.windows = WhatIfController::defaultWindows;
    if (m_modelPath.isEmpty())
        return;
    m_whatIf->configure(o, m_layers);
}

void PruningPage::updateButtons()
{
    const bool running = isRunning();
    m_controls->refresh(!m_modelPath.isEmpty());
    m_form->setEnabled(!running);
}

QString PruningPage::statusText() const
{
    return m_controls->status();
}

} // namespace blockscope::views
