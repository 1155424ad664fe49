#include "ppapage.h"

#include "formwidgets.h"

#include "blocksharemodel.h"
#include "charts/blockshareschart.h"
#include "charts/ppachart.h"
#include "common/device.h"
#include "messagebanner.h"
#include "ppapointmodel.h"
#include "pparunlistmodel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QThread>
#include <QToolButton>
#include <QVBoxLayout>

namespace blockscope::views {

PpaPage::PpaPage(JobRunner *runner, QWidget *parent)
    : QWidget(parent)
    , m_runner(runner)
    , m_banner(new MessageBanner(this))
    , m_chart(new PpaChart(this))
    , m_blockModel(new BlockShareModel(this))
    , m_blocks(new BlockSharesChart(this))
    , m_runList(new PpaRunListModel(this))
    , m_runTable(makeTable(this))
    , m_pointTable(makeTable(this))
{
    setObjectName(QStringLiteral("ppaPage"));
    setDocument(new ExperimentDocument(runner, this));
    m_banner->hide();
    m_blocks->setModel(m_blockModel);

    m_runTable->setObjectName(QStringLiteral("ppaRuns"));
    m_runTable->setModel(m_runList);
    m_runTable->horizontalHeader()->setSectionResizeMode(PpaRunListModel::Name, QHeaderView::Stretch);
    m_runTable->horizontalHeader()->setSectionResizeMode(PpaRunListModel::Points, QHeaderView::ResizeToContents);
    m_runTable->horizontalHeader()->setSectionResizeMode(PpaRunListModel::Measured, QHeaderView::ResizeToContents);
    connect(m_runTable->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
        [this](const QModelIndex &current) { selectRun(current.isValid() ? current.row() : -1); });
    connect(m_runList, &PpaRunListModel::shownChanged, this, [this] { rebuildChart(); });

    m_pointTable->setObjectName(QStringLiteral("ppaPoints"));
    m_pointTable->horizontalHeader()->setDefaultAlignment(Qt::AlignCenter);
    connect(m_chart, &PpaChart::pointClicked, this, [this](int chartRun, int row) {
        for (int i = 0; i < runCount(); ++i)
            if (m_sources[static_cast<std::size_t>(i)].chartRun == chartRun) {
                selectRun(i);
                selectPoint(row);
            }
    });

    auto *side = createSidePanel();
    auto *pointsBox = new QWidget(this);
    auto *pointsLayout = new QVBoxLayout(pointsBox);
    pointsLayout->setContentsMargins(0, 0, 0, 0);
    pointsLayout->addWidget(caption(tr("Points of the selected run"), pointsBox));
    pointsLayout->addWidget(m_pointTable, 1);

    auto *blocksBox = new QWidget(this);
    auto *blocksLayout = new QVBoxLayout(blocksBox);
    blocksLayout->setContentsMargins(0, 0, 0, 0);
    auto *shareRow = new QHBoxLayout;
    shareRow->addWidget(caption(tr("Block shares of the selected point"), blocksBox));
    shareRow->addStretch(1);
    shareRow->addWidget(new QLabel(tr("Share of"), blocksBox));
    m_share->setObjectName(QStringLiteral("ppaShare"));
    m_share->addItem(tr("parameters (modelled)"), static_cast<int>(BlockShareMetric::Params));
    m_share->addItem(tr("prefill FLOPs (modelled)"), static_cast<int>(BlockShareMetric::Flops));
    m_share->addItem(tr("decode bytes (modelled)"), static_cast<int>(BlockShareMetric::Bytes));
    m_share->addItem(tr("prefill time (measured)"), static_cast<int>(BlockShareMetric::Time));
    m_share->addItem(tr("prefill energy"), static_cast<int>(BlockShareMetric::Energy));
    m_share->setItemData(m_share->count() - 1,
        tr("Measured where an energy counter was read (split by measured time), else modelled: the chart says which"),
        Qt::ToolTipRole);
    connect(m_share, &QComboBox::currentIndexChanged, this,
        [this] { m_blockModel->setMetric(static_cast<BlockShareMetric>(m_share->currentData().toInt())); });
    shareRow->addWidget(m_share);
    m_byBlock->setObjectName(QStringLiteral("ppaByBlock"));
    m_byBlock->setToolTip(tr("Each block's attention and MLP as one bar (on by itself beyond 12 blocks); untick for "
                             "every sublayer"));
    connect(m_byBlock, &QCheckBox::clicked, this, [this](bool on) {
        m_byBlockChosen = true;
        m_blockModel->setByBlock(on);
    });
    shareRow->addWidget(m_byBlock);
    blocksLayout->addLayout(shareRow);
    blocksLayout->addWidget(m_blocks, 1);

    // The PPA chart across the page (its legend names every series with its provenance), the table
    // and the block shares below it.
    auto *bottom = new QSplitter(Qt::Horizontal, this);
    bottom->setChildrenCollapsible(false);
    bottom->addWidget(pointsBox);
    bottom->addWidget(blocksBox);
    bottom->setStretchFactor(0, 3);
    bottom->setStretchFactor(1, 2);
    bottom->setSizes({580, 420});
    m_chart->setMinimumSize(360, 260);
    m_blocks->setMinimumSize(280, 220);
    auto *right = new QSplitter(Qt::Vertical, this);
    right->setChildrenCollapsible(false);
    right->addWidget(m_chart);
    right->addWidget(bottom);
    right->setStretchFactor(0, 1);
    right->setStretchFactor(1, 1);
    right->setSizes({540, 460}); // proportions: the splitter scales them to its height
    auto *main = new QSplitter(Qt::Horizontal, this);
    main->setChildrenCollapsible(false);
    main->addWidget(side);
    main->addWidget(right);
    main->setStretchFactor(0, 0);
    main->setStretchFactor(1, 1);
    main->setSizes({300, 1200});

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_banner);
    layout->addWidget(createToolbar());
    layout->addWidget(main, 1);
    // A cancelled job calls neither of its callbacks; its end comes through the runner.
    connect(m_runner, &JobRunner::jobFinished, this, [this](JobId id, JobOutcome outcome) {
        if (id == m_job && outcome == JobOutcome::Cancelled)
            finishCompute(QStringLiteral("cancelled"), QString());
    });
    updateButtons();
    setStatus(tr("Open an experiment file with PPA points (File > Open Experiment), or compute them for a run"));
}

PpaPage::~PpaPage()
{
    m_pointTable->setModel(nullptr);
    m_blocks->setModel(nullptr);
    m_chart->clearRuns();
}

QWidget *PpaPage::createToolbar()
{
    auto *bar = new QWidget(this);
    auto *row = new QHBoxLayout(bar);
    row->setContentsMargins(0, 0, 0, 0);
    m_file->setObjectName(QStringLiteral("ppaFile"));
    m_file->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *open = new QPushButton(tr("Open\u2026"), bar);
    open->setToolTip(tr("Open an experiment file (.h5)"));
    connect(open, &QPushButton::clicked, this, &PpaPage::openExperimentDialog);
    row->addWidget(m_file);
    row->addWidget(open);
    row->addSpacing(16);

    m_quality->setObjectName(QStringLiteral("ppaQuality"));
    m_quality->addItem(tr("Perplexity"), static_cast<int>(PpaQuality::Perplexity));
    m_quality->addItem(tr("KL to dense"), static_cast<int>(PpaQuality::KlToDense));
    m_quality->addItem(tr("Search score"), static_cast<int>(PpaQuality::SearchScore));
    connect(m_quality, &QComboBox::currentIndexChanged, this,
        [this] { m_chart->setQuality(static_cast<PpaQuality>(m_quality->currentData().toInt())); });
    m_axis->setObjectName(QStringLiteral("ppaAxis"));
    for (PpaAxis a : {PpaAxis::PrefillThroughput, PpaAxis::DecodeLatency, PpaAxis::StoredSize, PpaAxis::PrefillEnergy,
             PpaAxis::DecodeEnergy})
        m_axis->addItem(PpaPointModel::axisName(a), static_cast<int>(a));
    connect(m_axis, &QComboBox::currentIndexChanged, this,
        [this] { m_chart->setAxis(static_cast<PpaAxis>(m_axis->currentData().toInt())); });
    m_shown->setObjectName(QStringLiteral("ppaShown"));
    m_shown->addItem(tr("measured and modelled"), static_cast<int>(PpaChart::Shown::Both));
    m_shown->addItem(tr("measured only"), static_cast<int>(PpaChart::Shown::MeasuredOnly));
    m_shown->addItem(tr("modelled only"), static_cast<int>(PpaChart::Shown::ModelledOnly));
    connect(m_shown, &QComboBox::currentIndexChanged, this,
        [this] { m_chart->setShown(static_cast<PpaChart::Shown>(m_shown->currentData().toInt())); });
    m_device->setObjectName(QStringLiteral("ppaModelledDevice"));
    m_device->setToolTip(tr("Which roofline prediction supplies the modelled figures"));
    m_device->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    connect(m_device, &QComboBox::currentIndexChanged, this, [this] {
        if (m_device->currentIndex() >= 0)
            m_chart->setModelledDevice(m_device->currentData().toString());
        resizePointColumns();
    });
    m_logQuality->setToolTip(tr("Logarithmic perplexity axis"));
    connect(m_logQuality, &QCheckBox::toggled, m_chart, &PpaChart::setLogQuality);

    row->addWidget(new QLabel(tr("Quality"), bar));
    row->addWidget(m_quality);
    row->addWidget(m_logQuality);
    row->addSpacing(8);
    row->addWidget(new QLabel(tr("against"), bar));
    row->addWidget(m_axis);
    row->addSpacing(8);
    row->addWidget(new QLabel(tr("Show"), bar));
    row->addWidget(m_shown);
    row->addSpacing(8);
    row->addWidget(new QLabel(tr("Modelled on"), bar));
    row->addWidget(m_device);
    row->addStretch(1);
    auto *exportButton = new QToolButton(bar);
    exportButton->setObjectName(QStringLiteral("ppaExport"));
    exportButton->setText(tr("Export"));
    exportButton->setPopupMode(QToolButton::InstantPopup);
    exportButton->setMenu(createExportMenu());
    row->addWidget(exportButton);
    refreshDevices();
    return bar;
}

QWidget *PpaPage::createSidePanel()
{
    auto *panel = new QWidget(this);
    auto *layout = new QVBoxLayout(panel);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(caption(tr("Runs and sweeps"), panel));
    layout->addWidget(m_runTable, 1);
    layout->addWidget(createComputeBox());
    m_status->setObjectName(QStringLiteral("ppaStatus"));
    m_status->setWordWrap(true);
    m_status->setMinimumHeight(m_status->fontMetrics().height() * 3);
    m_status->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    layout->addWidget(m_status);
    panel->setMinimumWidth(260);
    return panel;
}

QWidget *PpaPage::createComputeBox()
{
    auto *box = new QGroupBox(tr("Compute PPA for the selected run"), this);
    auto *form = new QFormLayout(box);
    form->setContentsMargins(6, 6, 6, 6);
    m_computeDevice->setObjectName(QStringLiteral("ppaComputeDevice"));
    m_computeDevice->addItem(QStringLiteral("cpu"));
    if (cudaAvailable())
        m_computeDevice->addItem(QStringLiteral("cuda"));
    m_batch->setObjectName(QStringLiteral("ppaBatch"));
    m_seq->setObjectName(QStringLiteral("ppaSeq"));
    m_threads->setObjectName(QStringLiteral("ppaThreads"));
    m_batch->setRange(1, 256);
    m_batch->setValue(1);
    m_seq->setRange(8, 8192);
    m_seq->setValue(128);
    m_threads->setRange(0, std::max(1, QThread::idealThreadCount()));
    m_threads->setSpecialValueText(tr("default"));
    m_threads->setToolTip(tr("CPU threads for the measurement (a busy machine measures better with fewer)"));
    m_predictButton->setObjectName(QStringLiteral("ppaPredictFor"));
    m_predictButton->setPopupMode(QToolButton::InstantPopup);
    m_predictButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
    auto *menu = new QMenu(m_predictButton);
    for (const ppa::DeviceSpec &d : ppa::DeviceTable::builtIn().devices) {
        QAction *a = menu->addAction(QString::fromStdString(d.name));
        a->setCheckable(true);
        connect(a, &QAction::toggled, this, [this, menu] {
            QStringList names;
            for (QAction *action : menu->actions())
                if (action->isChecked())
                    names << action->text();
            m_predictFor = names;
            m_predictButton->setText(names.isEmpty() ? tr("this machine only") : names.join(QStringLiteral(", ")));
        });
    }
    m_predictButton->setMenu(menu);
    m_predictButton->setText(tr("this machine only"));
    m_predictButton->setToolTip(tr("Roofline predictions for devices from the built-in table, besides this machine"));
    form->addRow(tr("Measure on"), m_computeDevice);
    form->addRow(tr("Batch"), m_batch);
    form->addRow(tr("Sequence"), m_seq);
    form->addRow(tr("Threads"), m_threads);
    form->addRow(tr("Predict for"), m_predictButton);
    auto *buttons = new QHBoxLayout;
    m_computeButton->setObjectName(QStringLiteral("ppaCompute"));
    m_cancelButton->setObjectName(QStringLiteral("ppaCancel"));
    connect(m_computeButton, &QPushButton::clicked, this, &PpaPage::computePpa);
    connect(m_cancelButton, &QPushButton::clicked, this, &PpaPage::cancelCompute);
    buttons->addWidget(m_computeButton);
    buttons->addWidget(m_cancelButton);
    form->addRow(buttons);
    return box;
}

void PpaPage::setPredictFor(const QStringList &devices)
{
    for (QAction *a : m_predictButton->menu()->actions())
        a->setChecked(devices.contains(a->text(), Qt::CaseInsensitive));
}

QStringList PpaPage::predictFor() const
{
    return m_predictFor;
}

void PpaPage::setModel(const QString &path)
{
    m_modelPath = path;
    updateButtons();
}

int PpaPage::rowForId(const QString &id) const
{
    for (int i = 0; i < runCount(); ++i)
        if (m_sources[static_cast<std::size_t>(i)].id == id)
            return i;
    return -1;
}

QString PpaPage::runId(int row) const
{
    return row >= 0 && row < runCount() ? m_sources[static_cast<std::size_t>(row)].id : QString();
}

PpaPointModel *PpaPage::pointModel(int row) const
{
    return row >= 0 && row < runCount() ? m_sources[static_cast<std::size_t>(row)].points : nullptr;
}

void PpaPage::selectRun(int row)
{
    if (row < 0 || row >= runCount())
        row = -1;
    if (m_runTable->currentIndex().row() != row && row >= 0)
        m_runTable->setCurrentIndex(m_runList->index(row, 0));
    if (row == m_current)
        return;
    m_current = row;
    PpaPointModel *points = pointModel(row);
    QItemSelectionModel *old = m_pointTable->selectionModel();
    m_pointTable->setModel(points);
    delete old; // setModel leaves the old selection model to its caller
    if (points) {
        connect(m_pointTable->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this] { showPointUnits(); });
        resizePointColumns();
        // The most pruned configuration first: its removed units are what the block chart is for.
        selectPoint(points->rowCount() - 1);
    }
    showPointUnits();
    updateButtons();
}

void PpaPage::selectPoint(int row)
{
    PpaPointModel *points = pointModel(m_current);
    if (!points || row < 0 || row >= points->rowCount())
        return;
    m_pointTable->setCurrentIndex(points->index(row, 0));
    m_pointTable->scrollTo(points->index(row, 0));
    showPointUnits();
}

int PpaPage::currentPoint() const
{
    return m_pointTable->model() ? m_pointTable->currentIndex().row() : -1;
}

void PpaPage::showPointUnits()
{
    PpaPointModel *points = pointModel(m_current);
    const int row = currentPoint();
    if (!points || row < 0 || row >= points->rowCount()) {
        m_blockModel->clear();
        return;
    }
    m_blockModel->setPoint(points->point(row));
    // Beyond 12 blocks, sublayer bars are too many to read: one bar a block, until the user chooses.
    if (!m_byBlockChosen) {
        const bool deep = m_blockModel->blockCount() > 12;
        m_byBlock->setChecked(deep);
        m_blockModel->setByBlock(deep);
    }
}

void PpaPage::resizePointColumns()
{
    if (!m_pointTable->model())
        return;
    m_pointTable->resizeColumnsToContents();
    // The configuration's label can be long ("step 3: block 5, attn 2"); the numbers matter more.
    const int cap = m_pointTable->fontMetrics().horizontalAdvance(QLatin1Char('x')) * 22;
    for (int c : {PpaPointModel::Label, PpaPointModel::Mask})
        if (m_pointTable->columnWidth(c) > cap)
            m_pointTable->setColumnWidth(c, cap);
}

void PpaPage::rebuildChart()
{
    m_chart->clearRuns();
    for (int i = 0; i < runCount(); ++i) {
        Source &s = m_sources[static_cast<std::size_t>(i)];
        s.chartRun = -1;
        if (m_runList->entry(i).shown && s.points->rowCount() > 0)
            s.chartRun = m_chart->addRun(s.points, s.name);
    }
    refreshDevices();
}

void PpaPage::refreshDevices()
{
    // Every device some shown point was predicted for; this machine's calibrated roofline first.
    QStringList devices;
    bool calibrated = false;
    for (const Source &s : m_sources)
        for (const QString &d : s.points->predictionDevices()) {
            if (d.isEmpty())
                calibrated = true;
            else if (!devices.contains(d))
                devices << d;
        }
    const QString chosen = m_device->currentIndex() >= 0 ? m_device->currentData().toString() : QString();
    QSignalBlocker block(m_device);
    m_device->clear();
    if (calibrated || devices.isEmpty())
        m_device->addItem(tr("this machine (calibrated)"), QString());
    for (const QString &d : devices)
        m_device->addItem(d, d);
    const int keep = m_device->findData(chosen);
    m_device->setCurrentIndex(keep >= 0 ? keep : 0);
    m_chart->setModelledDevice(m_device->currentData().toString());
}

void PpaPage::updateButtons()
{
    const bool running = isComputing();
    const bool runSelected = m_current >= 0 && !m_sources[static_cast<std::size_t>(m_current)].sweep;
    m_computeButton->setEnabled(!running && runSelected);
    m_cancelButton->setEnabled(running);
    m_computeButton->setToolTip(runSelected
            ? tr("Measure and model the dense model and every step of the run on this machine, with roofline "
                 "predictions, and write the points into the experiment file")
            : tr("Select a pruning run (sweeps get their points when they run)"));
}

void PpaPage::setStatus(const QString &text)
{
    m_status->setText(text);
}

QString PpaPage::statusText() const
{
    return m_status->text();
}

} // namespace blockscope::views
