#include "gatetrainpanel.h"

#include "formwidgets.h"

#include "charts/losschart.h"
#include "eval/protocol.h"
#include "format.h"
#include "gatetrainmodel.h"
#include "jobs/jobcontext.h"
#include "messagebanner.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardPaths>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>
#include <memory>

namespace blockscope::views {

namespace {
const QString trainTag = QStringLiteral("gate-train");

struct Trained
{
    sparse::GateTrainResult result;
    double seconds = 0;
};
} // namespace

GateTrainPanel::GateTrainPanel(JobRunner *runner, QWidget *parent)
    : QWidget(parent)
    , m_runner(runner)
    , m_banner(new MessageBanner(this))
    , m_controls(new JobControls(runner, tr("Train"),
          {QStringLiteral("trainGates"), QStringLiteral("cancelGates"), QStringLiteral("gateTrainStatus")}, this))
    , m_steps(new GateTrainModel(this))
    , m_evals(new GateEvalModel(this))
    , m_chart(new LossChart(this))
{
    setObjectName(QStringLiteral("gateTrainPanel"));
    const sparse::GateTrainOptions defaults;
    m_text->setObjectName(QStringLiteral("gateCalibText"));
    m_text->setPlaceholderText(tr("Calibration text (.txt)"));
    QHBoxLayout *textRow
        = openFileRow(m_text, tr("Calibration Text"), tr("Text (*.txt *.raw *.jsonl *.json);;All files (*)"));
    m_output->setObjectName(QStringLiteral("gateOutput"));
    m_output->setPlaceholderText(tr("Gate file to write (.seergate.safetensors)"));
    connect(m_output, &QLineEdit::textEdited, this, [this] { m_outputEdited = true; });
    QToolButton *browseOutput = browseButton(this);
    connect(browseOutput, &QToolButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Gate File"), m_output->text(), tr("SeerAttention gates (*.seergate.safetensors);;All files (*)"));
        if (!path.isEmpty())
            setOutputPath(path);
    });
    for (const QString &p : QString::fromStdString(protocolPresetNames()).split(QLatin1Char(','), Qt::SkipEmptyParts))
        m_protocol->addItem(p.trimmed());
    m_protocol->setCurrentText(QStringLiteral("tiny-ts"));
    m_protocol->setToolTip(tr("Windows of the calibration pool for training, of the eval pool for the held-out KL"));
    m_stepsBox->setObjectName(QStringLiteral("gateSteps"));
    m_stepsBox->setRange(1, 1000000);
    m_stepsBox->setValue(static_cast<int>(defaults.steps));
    m_batch->setRange(1, 4096);
    m_batch->setValue(defaults.batch);
    m_batch->setToolTip(tr("Sequences per optimiser step"));
    m_lr->setDecimals(6);
    m_lr->setRange(1e-6, 1.0);
    m_lr->setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
    m_lr->setValue(defaults.lr);
    m_lr->setToolTip(tr("Peak AdamW learning rate (warm-up, then cosine to 0)"));
    for (int b : {16, 32, 64})
        m_blockSize->addItem(QString::number(b), b);
    m_blockSize->setCurrentIndex(m_blockSize->findData(defaults.blockSize));
    connect(m_blockSize, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_outputEdited)
            m_output->setText(defaultOutputPath());
    });
    m_seed->setRange(0, 1 << 30);
    m_heldOut->setRange(0, 10000);
    m_heldOut->setValue(16);
    m_heldOut->setToolTip(tr("Eval-pool windows for the held-out KL and recall (0: none)"));
    m_trainWindows->setRange(0, 100000);
    m_trainWindows->setValue(0);
    m_trainWindows->setSpecialValueText(tr("all"));
    m_trainWindows->setToolTip(tr("Calibration-pool windows to train on (all: every one)"));
    m_resume->setObjectName(QStringLiteral("gateResume"));
    m_resume->setToolTip(tr("Continue from the optimiser state saved beside the gate file (after a cancel or "
                            "with more steps); the result equals an uninterrupted run"));

    m_controls->cancelButton()->setToolTip(tr("Stop; the state is saved and Resume continues from it"));
    connect(m_controls->runButton(), &QPushButton::clicked, this, &GateTrainPanel::train);
    connect(m_controls->cancelButton(), &QPushButton::clicked, this, &GateTrainPanel::cancel);

    auto *form = new QFormLayout;
    form->addRow(tr("Calibration text"), textRow);
    form->addRow(tr("Gate file"), pathRow(m_output, browseOutput));
    form->addRow(tr("Protocol"), m_protocol);
    form->addRow(tr("Steps"), m_stepsBox);
    form->addRow(tr("Batch"), m_batch);
    form->addRow(tr("Learning rate"), m_lr);
    form->addRow(tr("Block size"), m_blockSize);
    form->addRow(tr("Seed"), m_seed);
    form->addRow(tr("Training windows"), m_trainWindows);
    form->addRow(tr("Held-out windows"), m_heldOut);
    form->addRow(m_resume);
    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 4, 0);
    leftLayout->addLayout(form);
    leftLayout->addWidget(m_controls);
    leftLayout->addStretch(1);
    left->setMinimumWidth(280);
    left->setMaximumWidth(360);

    m_chart->setModels(m_steps, m_evals);
    m_chart->setTotalSteps(m_stepsBox->value());
    connect(m_stepsBox, &QSpinBox::valueChanged, this, [this](int steps) {
        if (!isRunning())
            m_chart->setTotalSteps(steps);
    });
    auto *logScale = new QCheckBox(tr("Log scale"), this);
    connect(logScale, &QCheckBox::toggled, m_chart, &LossChart::setLogScale);
    auto *exportChart = new QPushButton(tr("Export chart\u2026"), this);
    connect(exportChart, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export Chart"), QStringLiteral("gate-training.png"),
            tr("PNG image (*.png);;SVG image (*.svg);;PDF document (*.pdf)"));
        QString error;
        if (!path.isEmpty())
            m_controls->setStatus(m_chart->exportTo(path, &error) ? tr("Exported %1").arg(path) : error);
    });
    auto *bar = new QHBoxLayout;
    bar->addWidget(logScale);
    bar->addStretch(1);
    bar->addWidget(exportChart);
    m_evalTable->setObjectName(QStringLiteral("gateEvalTable"));
    m_evalTable->setModel(m_evals);
    m_evalTable->verticalHeader()->setVisible(false);
    m_evalTable->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_evalTable->setAlternatingRowColors(true);
    m_evalTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    auto *chartPanel = new QWidget(this);
    auto *chartLayout = new QVBoxLayout(chartPanel);
    chartLayout->setContentsMargins(0, 0, 0, 0);
    chartLayout->addLayout(bar);
    chartLayout->addWidget(m_chart, 1);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(chartPanel);
    split->addWidget(m_evalTable);
    split->setStretchFactor(0, 4);
    split->setStretchFactor(1, 1);
    split->setChildrenCollapsible(false);

    layOutPage(this, m_banner, left, split);

    connect(m_controls, &JobControls::stage, this, [this](const QString &stage) {
        if (m_lastStep < 0)
            m_controls->setStatus(tr("Running: %1").arg(stage));
    });
    connect(m_controls, &JobControls::stopped, this, [this] { endRun(QStringLiteral("cancelled"), QString()); });
    updateButtons();
    m_controls->setStatus(tr("Gates learn which blocks of each layer's attention matter; the model stays frozen."));
}

GateTrainPanel::~GateTrainPanel()
{
    // The chart's mappers watch the models this panel owns.
    m_chart->setModels(nullptr, nullptr);
}

QString GateTrainPanel::defaultOutputPath() const
{
    if (m_modelPath.isEmpty())
        return {};
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/gates");
    QString base = QFileInfo(m_modelPath).isDir() ? QFileInfo(m_modelPath).fileName()
                                                  : QFileInfo(m_modelPath).completeBaseName();
    return QStringLiteral("%1/%2-B%3.seergate.safetensors").arg(dir, base).arg(m_blockSize->currentData().toInt());
}

void GateTrainPanel::setModel(const QString &path)
{
    m_modelPath = path;
    if (!m_outputEdited)
        m_output->setText(defaultOutputPath());
    updateButtons();
}

void GateTrainPanel::setDefaultText(const QString &path)
{
    if (m_text->text().isEmpty())
        m_text->setText(path);
}

void GateTrainPanel::setCalibrationText(const QString &path)
{
    m_text->setText(path);
}

void GateTrainPanel::setOutputPath(const QString &path)
{
    m_outputEdited = true;
    m_output->setText(path);
}

QString GateTrainPanel::outputPath() const
{
    return m_output->text();
}

void GateTrainPanel::setSteps(qint64 steps)
{
    m_stepsBox->setValue(static_cast<int>(steps));
}

void GateTrainPanel::setHeldOutWindows(int windows)
{
    m_heldOut->setValue(windows);
}

void GateTrainPanel::setCalibrationWindows(int windows)
{
    m_trainWindows->setValue(windows);
}

void GateTrainPanel::setResume(bool resume)
{
    m_resume->setChecked(resume);
}

bool GateTrainPanel::resume() const
{
    return m_resume->isChecked();
}

sparse::GateTrainJob GateTrainPanel::request() const
{
    sparse::GateTrainJob r;
    r.modelPath = m_modelPath.toStdString();
    r.calibPath = m_text->text().toStdString();
    r.outPath = m_output->text().toStdString();
    r.protocol = m_protocol->currentText().toStdString();
    r.heldOutWindows = m_heldOut->value();
    r.calibrationWindows = m_trainWindows->value();
    r.options.steps = m_stepsBox->value();
    r.options.batch = m_batch->value();
    r.options.lr = m_lr->value();
    r.options.blockSize = m_blockSize->currentData().toInt();
    r.options.seed = static_cast<std::uint64_t>(m_seed->value());
    r.resume = m_resume->isChecked();
    return r;
}

QString GateTrainPanel::missing() const
{
    if (m_modelPath.isEmpty())
        return tr("Open a model first");
    if (!QFileInfo(m_text->text()).isFile())
        return tr("Choose a calibration text file");
    if (m_output->text().trimmed().isEmpty())
        return tr("Choose where to write the gate file");
    const std::string why = request().options.validate();
    if (!why.empty())
        return QString::fromStdString(why);
    return {};
}

bool GateTrainPanel::isRunning() const
{
    return m_controls->isRunning();
}

void GateTrainPanel::updateButtons()
{
    m_controls->refresh(!m_modelPath.isEmpty());
}

QString GateTrainPanel::statusText() const
{
    return m_controls->status();
}

void GateTrainPanel::train()
{
    if (isRunning())
        return;
    const QString why = missing();
    if (!why.isEmpty()) {
        m_banner->showMessage(MessageBanner::Kind::Error, why);
        m_controls->setStatus(why);
        return;
    }
    m_banner->hide();
    sparse::GateTrainJob request = this->request();
    const QString out = QString::fromStdString(request.outPath);
    if (!QDir().mkpath(QFileInfo(out).absolutePath())) {
        m_banner->showMessage(MessageBanner::Kind::Error, tr("Cannot create the folder of %1").arg(out));
        return;
    }
    // A resumed run carries the curve on; a fresh one starts it again.
    if (!request.resume) {
        m_steps->clear();
        m_evals->clear();
    }
    m_lastStep = -1;
    m_chart->setTotalSteps(request.options.steps);

    request.onStep = m_runner->partials<sparse::GateTrainStep>(
        trainTag, this, [this](const sparse::GateTrainStep &step) { appendStep(step); });
    request.onEval = m_runner->partials<sparse::GateEvalPoint>(
        trainTag, this, [this](const sparse::GateEvalPoint &point) { appendEval(point); });
    const JobId job = m_runner->run<Trained>(
        trainTag, tr("Gate training: %1").arg(QFileInfo(out).fileName()),
        [request](JobContext &job) {
            QElapsedTimer timer;
            timer.start();
            Trained t;
            t.result = sparse::runGateTrainJob(request, job);
            t.seconds = static_cast<double>(timer.nsecsElapsed()) / 1e9;
            return t;
        },
        this, [this](Trained t) { finish(t.result, t.seconds); },
        [this](const QString &message) { endRun(QStringLiteral("failed"), message); }, Lane::Engine);
    m_controls->follow(job);
    m_controls->setStatus(request.resume ? tr("Resuming\u2026") : tr("Preparing the feature cache\u2026"));
    updateButtons();
}

void GateTrainPanel::cancel()
{
    m_controls->cancel();
}

void GateTrainPanel::appendStep(const sparse::GateTrainStep &step)
{
    m_steps->appendStep(step);
    m_lastStep = step.step;
    const qint64 total = m_stepsBox->value();
    if (isRunning()) {
        m_controls->progressBar()->setValue(
            static_cast<int>(1000.0 * static_cast<double>(step.step + 1) / std::max<qint64>(total, 1)));
        m_controls->setStatus(tr("Step %1 of %2 \u00b7 loss %3 \u00b7 lr %4 \u00b7 %5")
                                  .arg(step.step + 1)
                                  .arg(total)
                                  .arg(step.loss, 0, 'g', 4)
                                  .arg(step.lr, 0, 'g', 3)
                                  .arg(formatDuration(step.seconds)));
    }
    Q_EMIT stepShown(step.step);
}

void GateTrainPanel::appendEval(const sparse::GateEvalPoint &point)
{
    m_evals->appendPoint(point);
}

void GateTrainPanel::finish(const sparse::GateTrainResult &result, double seconds)
{
    const QString out = m_output->text();
    QString text = tr("Trained %1 steps in %2").arg(result.steps.size()).arg(formatDuration(seconds));
    if (result.resumed)
        text = tr("Resumed and trained to step %1 in %2").arg(m_lastStep + 1).arg(formatDuration(seconds));
    if (result.evals.size() >= 2) {
        const auto &first = result.evals.front();
        const auto &last = result.evals.back();
        text += tr(": held-out KL %1 \u2192 %2, recall at \u03c1 0.5 %3 (static %4)")
                    .arg(first.kl, 0, 'g', 3)
                    .arg(last.kl, 0, 'g', 3)
                    .arg(last.recallAtDensity, 0, 'f', 3)
                    .arg(last.recallStaticAtDensity, 0, 'f', 3);
    }
    m_controls->setStatus(text + tr("; saved to %1").arg(out));
    m_controls->release();
    m_resume->setChecked(false);
    updateButtons();
    Q_EMIT gatesWritten(out);
    Q_EMIT trainingEnded(QStringLiteral("complete"));
}

void GateTrainPanel::endRun(const QString &status, const QString &message)
{
    if (!m_controls->release())
        return;
    updateButtons();
    if (status == QLatin1String("cancelled")) {
        // The engine saved its state on the way out: resuming is one click away.
        m_resume->setChecked(true);
        m_controls->setStatus(m_lastStep >= 0
                ? tr("Cancelled after step %1; the state is saved beside %2: Train with Resume ticked continues")
                      .arg(m_lastStep + 1)
                      .arg(QFileInfo(m_output->text()).fileName())
                : tr("Cancelled before the first step"));
    } else {
        m_banner->showMessage(MessageBanner::Kind::Error, tr("Gate training failed: %1").arg(message));
        m_controls->setStatus(tr("Failed: %1").arg(message));
    }
    Q_EMIT trainingEnded(status);
}

} // namespace blockscope::views
