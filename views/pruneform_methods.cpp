// The method-specific option pages of the pruning form, each with its method's tiny-ts defaults.
#include "pruneform.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QSpinBox>

namespace blockscope::views {

namespace {
QFormLayout *compactForm(QWidget *w)
{
    auto *form = new QFormLayout(w);
    form->setContentsMargins(0, 0, 0, 0);
    form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    return form;
}
} // namespace

QWidget *PruneForm::slebOptions()
{
    const PruneOptions defaults = PruneOptions::tinyTsDefaults(PruneMethod::Sleb);
    auto *w = new QWidget(this);
    auto *form = compactForm(w);
    m_earlyBarrier = new QSpinBox(w);
    m_latterBarrier = new QSpinBox(w);
    m_earlyBarrier->setRange(0, 1000);
    m_latterBarrier->setRange(0, 1000);
    m_earlyBarrier->setValue(defaults.earlyBarrier);
    m_latterBarrier->setValue(defaults.latterBarrier);
    m_earlyBarrier->setToolTip(tr("The first blocks no step may remove"));
    m_latterBarrier->setToolTip(tr("The last blocks no step may remove"));
    m_earlyStop = new QCheckBox(tr("Stop candidates that cannot win"), w);
    m_earlyStop->setToolTip(tr("A candidate stops once its running NLL sum exceeds the best score of the step: "
                               "the same blocks are chosen, faster; the stopped candidates' scores are lower "
                               "bounds, marked \u2265 in the layer map"));
    form->addRow(tr("Keep first"), m_earlyBarrier);
    form->addRow(tr("Keep last"), m_latterBarrier);
    form->addRow(m_earlyStop);
    return w;
}

QWidget *PruneForm::finercutOptions()
{
    const PruneOptions defaults = PruneOptions::tinyTsDefaults(PruneMethod::FinerCut);
    auto *w = new QWidget(this);
    auto *form = compactForm(w);
    m_finercutLevel = new QComboBox(w);
    m_finercutLevel->addItems(
        {QStringLiteral("am"), QStringLiteral("a"), QStringLiteral("m"), QStringLiteral("block")});
    m_finercutLevel->setCurrentText(QString::fromStdString(defaults.finercutLevel));
    m_finercutLevel->setToolTip(tr("Candidates: attention and MLP (am), attention only, MLP only, or blocks"));
    m_finercutMetric = new QComboBox(w);
    m_finercutMetric->addItems({QStringLiteral("js"), QStringLiteral("kl"), QStringLiteral("norm")});
    m_finercutMetric->setCurrentText(QString::fromStdString(defaults.finercutMetric));
    m_finercutMetric->setToolTip(tr("Distance of the pruned output to dense: Jensen-Shannon, KL or norm"));
    m_excludeFraction = new QDoubleSpinBox(w);
    m_excludeFraction->setRange(0, 0.95);
    m_excludeFraction->setSingleStep(0.05);
    m_excludeFraction->setValue(defaults.excludeFraction);
    m_excludeFraction->setToolTip(tr("Share of the first units kept out of the list until the rest are scored"));
    form->addRow(tr("Level"), m_finercutLevel);
    form->addRow(tr("Metric"), m_finercutMetric);
    form->addRow(tr("Exclude first"), m_excludeFraction);
    return w;
}

QWidget *PruneForm::evopressOptions()
{
    const PruneOptions defaults = PruneOptions::tinyTsDefaults(PruneMethod::EvoPress);
    auto *w = new QWidget(this);
    auto *form = compactForm(w);
    m_offspring = new QSpinBox(w);
    m_offspring->setRange(1, 4096);
    m_offspring->setValue(defaults.offspring);
    m_generations = new QSpinBox(w);
    m_generations->setRange(0, 100000);
    m_generations->setSpecialValueText(tr("k (L \u2212 k) / 1.5"));
    m_generations->setValue(defaults.generations);
    m_evoFitness = new QComboBox(w);
    m_evoFitness->addItems({QStringLiteral("kl"), QStringLiteral("ppl")});
    m_evoFitness->setCurrentText(QString::fromStdString(defaults.evoFitness));
    m_teacher = new QComboBox(w);
    m_teacher->addItems(
        {QStringLiteral("float16"), QStringLiteral("bfloat16"), QStringLiteral("float32"), QStringLiteral("top-k")});
    m_teacher->setCurrentText(QString::fromStdString(defaults.teacher));
    m_teacher->setToolTip(tr("How the KL fitness keeps the dense model's logits on the host: in a precision, or "
                             "as the K most likely tokens plus one bucket for the rest (a lower bound of the "
                             "full KL, for vocabularies too large to keep)"));
    m_teacherTopK = new QSpinBox(w);
    m_teacherTopK->setRange(512, 1 << 20);
    m_teacherTopK->setValue(defaults.teacherTopK);
    m_teacherTopK->setPrefix(QStringLiteral("K = "));
    m_teacherBudget = new QSpinBox(w);
    m_teacherBudget->setRange(1, 1 << 24);
    m_teacherBudget->setValue(static_cast<int>(defaults.teacherBudgetMiB));
    m_teacherBudget->setSuffix(QStringLiteral(" MiB"));
    m_teacherBudget->setToolTip(tr("A teacher larger than this is refused before the run starts"));
    const auto teacherShown = [this] {
        const bool kl = m_evoFitness->currentText() == QLatin1String("kl");
        m_teacher->setEnabled(kl);
        m_teacherBudget->setEnabled(kl);
        m_teacherTopK->setEnabled(kl && m_teacher->currentText() == QLatin1String("top-k"));
    };
    connect(m_evoFitness, &QComboBox::currentTextChanged, this, teacherShown);
    connect(m_teacher, &QComboBox::currentTextChanged, this, teacherShown);
    teacherShown();
    form->addRow(tr("Offspring"), m_offspring);
    form->addRow(tr("Generations"), m_generations);
    form->addRow(tr("Fitness"), m_evoFitness);
    form->addRow(tr("Teacher"), m_teacher);
    form->addRow(tr("Top K"), m_teacherTopK);
    form->addRow(tr("Teacher budget"), m_teacherBudget);
    return w;
}

QWidget *PruneForm::oneShotOptions(bool angular)
{
    auto *w = new QWidget(this);
    auto *form = compactForm(w);
    form->addRow(new QLabel(tr("One shot: every block scored once"), w));
    if (angular) {
        m_angularAllTokens = new QCheckBox(tr("Distance over all tokens, not the last"), w);
        form->addRow(m_angularAllTokens);
    }
    return w;
}

} // namespace blockscope::views
