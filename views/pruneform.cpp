#include "pruneform.h"

#include "formwidgets.h"

#include "eval/protocol.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QStackedWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace blockscope::views {

namespace {
constexpr PruneMethod methods[]
    = {PruneMethod::Sleb, PruneMethod::FinerCut, PruneMethod::EvoPress, PruneMethod::ShortGpt, PruneMethod::Angular};

const char *methodTitle(PruneMethod m)
{
    switch (m) {
    case PruneMethod::Sleb: return "SLEB: remove blocks greedily by calibration perplexity";
    case PruneMethod::FinerCut: return "FinerCut: remove attention/MLP sublayers greedily by output distance";
    case PruneMethod::EvoPress: return "EvoPress: evolve which sublayers to drop at a fixed count";
    case PruneMethod::ShortGpt: return "ShortGPT: one shot, blocks with the lowest block influence";
    case PruneMethod::Angular: return "Angular distance: one shot, the most redundant run of blocks";
    }
    return "";
}
} // namespace

PruneForm::PruneForm(QWidget *parent)
    : QWidget(parent)
{
    const PruneOptions defaults;
    for (PruneMethod m : methods) {
        m_method->addItem(QString::fromStdString(pruneMethodName(m)), static_cast<int>(m));
        m_method->setItemData(m_method->count() - 1, tr(methodTitle(m)), Qt::ToolTipRole);
    }
    m_method->setObjectName(QStringLiteral("method"));
    m_targetMode->addItems({tr("count"), tr("fraction")});
    m_target->setObjectName(QStringLiteral("target"));
    m_target->setToolTip(tr("Blocks (SLEB, ShortGPT, angular), sublayer steps (FinerCut) or sublayers of each "
                            "kind (EvoPress) to remove: a count, or a fraction of the model"));
    m_seed->setRange(0, 1 << 30);
    m_calibrationWindows->setRange(0, 1 << 20);
    m_calibrationWindows->setSpecialValueText(tr("method default"));
    m_calibrationWindows->setToolTip(tr("Calibration windows the search scores candidates on; "
                                        "'method default' takes the tiny-ts budget of the method"));
    m_evaluationWindows->setRange(0, 1 << 20);
    m_evaluationWindows->setSpecialValueText(tr("all"));
    m_evaluationWindows->setValue(16);
    m_evaluationWindows->setToolTip(tr("Windows for the perplexity and KL shown after each step"));
    m_cached->setChecked(defaults.cached);
    m_cached->setToolTip(tr("Block-boundary caching: the same scores, recomputing only the blocks after "
                            "each candidate"));
    m_evaluateSteps->setChecked(defaults.evaluateSteps);
    m_evaluateSteps->setToolTip(tr("Perplexity and KL to dense of the configuration after every step"));
    m_device->addItems({QStringLiteral("cpu"), QStringLiteral("cuda")});
    m_processes->setObjectName(QStringLiteral("processes"));
    m_processes->setRange(1, 64);
    m_processes->setValue(1);
    m_processes->setSpecialValueText(tr("1 process"));
    m_processes->setSuffix(tr(" processes"));
    m_processes->setToolTip(tr("Run the search as this many local processes that share its candidates (the "
                               "trace is the same, bit for bit); each shows its progress in the jobs panel. "
                               "With cuda, process k takes GPU k."));

    m_methodOptions->addWidget(slebOptions());
    m_methodOptions->addWidget(finercutOptions());
    m_methodOptions->addWidget(evopressOptions());
    m_methodOptions->addWidget(oneShotOptions(false)); // ShortGPT
    m_methodOptions->addWidget(oneShotOptions(true));
    auto showOptions = [this](int i) {
        // Only the shown page asks for height, so the form has no gap under a short one.
        for (int p = 0; p < m_methodOptions->count(); ++p)
            m_methodOptions->widget(p)->setSizePolicy(
                QSizePolicy::Preferred, p == i ? QSizePolicy::Preferred : QSizePolicy::Ignored);
        m_methodOptions->setCurrentIndex(i);
        m_methodOptions->adjustSize();
    };
    showOptions(0);
    connect(m_method, &QComboBox::currentIndexChanged, this, [this, showOptions](int i) {
        showOptions(i);
        updateTargetMode();
        Q_EMIT changed();
    });
    connect(m_targetMode, &QComboBox::currentIndexChanged, this, &PruneForm::updateTargetMode);
    updateTargetMode();

    m_text->setObjectName(QStringLiteral("calibrationText"));
    m_text->setPlaceholderText(tr("UTF-8 text, WikiText .raw or JSONL"));
    QHBoxLayout *textRow = openFileRow(m_text, tr("Calibration text"),
        tr("Text (*.txt *.raw *.jsonl *.json);;All files (*)"), tr("Choose the calibration text"));
    connect(m_text, &QLineEdit::textChanged, this, &PruneForm::changed);
    for (const QString &p : QString::fromStdString(protocolPresetNames()).split(QLatin1Char(','), Qt::SkipEmptyParts))
        m_protocol->addItem(p.trimmed());
    m_protocol->setToolTip(tr("Windows, BOS and perplexity formula of calibration and evaluation"));
    connect(m_protocol, &QComboBox::currentTextChanged, this, &PruneForm::changed);
    m_experiment->setObjectName(QStringLiteral("experimentPath"));
    m_experiment->setPlaceholderText(tr("experiment file (.h5); empty: not saved"));
    QToolButton *browseExperiment
        = browseButton(this, tr("Choose the experiment file (a new run is added to an existing one)"));
    connect(browseExperiment, &QToolButton::clicked, this, &PruneForm::browseExperiment);
    m_label->setPlaceholderText(tr("optional, shown in the run list"));
    m_protected->setPlaceholderText(tr("blocks never removed, e.g. 0, 1"));
    m_resume->setToolTip(tr("Continue the last unfinished run of this method in the experiment file "
                            "(same options and data); its trace equals an uninterrupted run's"));

    auto *targetRow = new QHBoxLayout;
    targetRow->addWidget(m_target, 1);
    targetRow->addWidget(m_targetMode);

    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    form->addRow(tr("Method"), m_method);
    form->addRow(tr("Remove"), targetRow);
    form->addRow(tr("Options"), m_methodOptions);
    form->addRow(tr("Calibration text"), textRow);
    form->addRow(tr("Protocol"), m_protocol);
    form->addRow(tr("Calibration windows"), m_calibrationWindows);
    form->addRow(tr("Evaluation windows"), m_evaluationWindows);
    form->addRow(tr("Seed"), m_seed);
    form->addRow(tr("Protect"), m_protected);
    form->addRow(QString(), m_cached);
    form->addRow(QString(), m_evaluateSteps);
    auto *deviceRow = new QHBoxLayout;
    deviceRow->addWidget(m_device, 1);
    deviceRow->addWidget(m_processes);
    form->addRow(tr("Device"), deviceRow);
    form->addRow(tr("Experiment file"), pathRow(m_experiment, browseExperiment));
    form->addRow(tr("Label"), m_label);
    form->addRow(QString(), m_resume);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(form);
    layout->addStretch(1); // spare height below the form, not between its rows
}

void PruneForm::updateTargetMode()
{
    const bool fraction = m_targetMode->currentIndex() == 1;
    const double old = m_target->value();
    m_target->setDecimals(fraction ? 3 : 0);
    m_target->setRange(fraction ? 0.001 : 1, fraction ? 0.999 : 100000);
    m_target->setSingleStep(fraction ? 0.05 : 1);
    if (fraction && old >= 1)
        m_target->setValue(0.25);
    else if (!fraction && old < 1)
        m_target->setValue(1);
}

void PruneForm::setMethod(PruneMethod m)
{
    m_method->setCurrentIndex(m_method->findData(static_cast<int>(m)));
}

PruneMethod PruneForm::method() const
{
    return static_cast<PruneMethod>(m_method->currentData().toInt());
}

void PruneForm::setTarget(double target)
{
    m_targetMode->setCurrentIndex(target > 0 && target < 1 ? 1 : 0);
    m_target->setValue(target);
}

void PruneForm::setSeed(int seed)
{
    m_seed->setValue(seed);
}
void PruneForm::setCalibrationWindows(int windows)
{
    m_calibrationWindows->setValue(windows);
}
void PruneForm::setEvaluationWindows(int windows)
{
    m_evaluationWindows->setValue(windows);
}
void PruneForm::setCalibrationText(const QString &path)
{
    m_text->setText(path);
}
QString PruneForm::calibrationText() const
{
    return m_text->text().trimmed();
}
void PruneForm::setProtocol(const QString &preset)
{
    m_protocol->setCurrentText(preset);
}
QString PruneForm::protocol() const
{
    return m_protocol->currentText();
}
void PruneForm::setExperimentPath(const QString &path)
{
    m_experiment->setText(path);
}
QString PruneForm::experimentPath() const
{
    return m_experiment->text().trimmed();
}
void PruneForm::setEvoPress(int offspring, int generations)
{
    m_offspring->setValue(offspring);
    m_generations->setValue(generations);
}
void PruneForm::setFinerCut(const QString &level, const QString &metric, double excludeFraction)
{
    m_finercutLevel->setCurrentText(level);
    m_finercutMetric->setCurrentText(metric);
    m_excludeFraction->setValue(excludeFraction);
}
void PruneForm::setSlebBarriers(int early, int latter)
{
    m_earlyBarrier->setValue(early);
    m_latterBarrier->setValue(latter);
}
void PruneForm::setEarlyStop(bool earlyStop)
{
    m_earlyStop->setChecked(earlyStop);
}
void PruneForm::setCached(bool cached)
{
    m_cached->setChecked(cached);
}

void PruneForm::setProtectedBlocks(const QString &blocks)
{
    m_protected->setText(blocks);
}
void PruneForm::setResume(bool resume)
{
    m_resume->setChecked(resume);
}

void PruneForm::browseExperiment()
{
    // Not a save dialog's overwrite question: an existing experiment gets the new run added.
    const QString path = QFileDialog::getSaveFileName(this, tr("Experiment file"), experimentPath(),
        tr("Experiment files (*.h5);;All files (*)"), nullptr, QFileDialog::DontConfirmOverwrite);
    if (!path.isEmpty())
        m_experiment->setText(path);
}

PruneRequest PruneForm::request(const QString &modelPath) const
{
    PruneRequest r;
    r.modelPath = modelPath.toStdString();
    r.calibrationPath = calibrationText().toStdString();
    r.protocol = protocol().toStdString();
    r.evaluationWindows = m_evaluationWindows->value();
    r.device = m_device->currentText().toStdString();
    r.experimentPath = experimentPath().toStdString();
    r.label = m_label->text().trimmed().toStdString();
    r.resume = m_resume->isChecked();
    PruneOptions &o = r.options;
    // The tiny-ts budgets under tiny-ts; under another protocol the papers' defaults, and its own
    // calibration budget (0 here: the run resolves it, see PruneOptions::calibrationBudget).
    o = r.protocol == "tiny-ts" ? PruneOptions::tinyTsDefaults(method()) : PruneOptions();
    o.method = method();
    o.target = m_target->value();
    o.seed = static_cast<std::uint64_t>(m_seed->value());
    o.calibrationWindows = m_calibrationWindows->value();
    o.cached = m_cached->isChecked();
    o.evaluateSteps = m_evaluateSteps->isChecked();
    // Only the shown method's options: the others keep their defaults, so the experiment file
    // records what the command line would for the same run.
    switch (method()) {
    case PruneMethod::Sleb:
        o.earlyBarrier = m_earlyBarrier->value();
        o.earlyStop = m_earlyStop->isChecked();
        o.latterBarrier = m_latterBarrier->value();
        break;
    case PruneMethod::FinerCut:
        o.finercutLevel = m_finercutLevel->currentText().toStdString();
        o.finercutMetric = m_finercutMetric->currentText().toStdString();
        o.excludeFraction = m_excludeFraction->value();
        break;
    case PruneMethod::EvoPress:
        o.offspring = m_offspring->value();
        o.generations = m_generations->value();
        o.evoFitness = m_evoFitness->currentText().toStdString();
        o.teacher = m_teacher->currentText().toStdString();
        o.teacherTopK = m_teacherTopK->value();
        o.teacherBudgetMiB = m_teacherBudget->value();
        break;
    case PruneMethod::Angular: o.angularAllTokens = m_angularAllTokens->isChecked(); break;
    case PruneMethod::ShortGpt: break;
    }
    o.protectedBlocks.clear();
    for (const QString &part : m_protected->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const int block = part.trimmed().toInt(&ok);
        o.protectedBlocks.push_back(ok ? block : -1); // -1 is refused by validate(), naming the option
    }
    return r;
}

int PruneForm::processes() const
{
    return m_processes->value();
}

void PruneForm::setProcesses(int n)
{
    m_processes->setValue(n);
}

QString PruneForm::missing(const QString &modelPath) const
{
    if (modelPath.isEmpty())
        return tr("Open a model first (File > Open).");
    if (calibrationText().isEmpty())
        return tr("Choose a calibration text (UTF-8 text, WikiText .raw or JSONL): none was found at the default "
                  "place. Set BLOCKSCOPE_CALIBRATION_TEXT to make one the default.");
    if (!QFileInfo(calibrationText()).isFile())
        return tr("The calibration text %1 does not exist.").arg(calibrationText());
    for (const QString &part : m_protected->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        part.trimmed().toInt(&ok);
        if (!ok)
            return tr("Protect: '%1' is not a block number (write them as 0, 1).").arg(part.trimmed());
    }
    return {};
}

} // namespace blockscope::views
