#include "maskrulecontrols.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QSlider>
#include <QStandardItemModel>

#include <algorithm>
#include <cmath>

namespace blockscope::views {

namespace {
constexpr double thresholdLogLow = -5.0; // 1e-5
constexpr double thresholdLogSpan = 4.7; // .. about 0.5
} // namespace

MaskRuleControls::MaskRuleControls(QWidget *parent)
    : QGroupBox(tr("Mask"), parent)
    , m_source(new QComboBox(this))
    , m_mode(new QComboBox(this))
    , m_slider(new QSlider(Qt::Horizontal, this))
    , m_value(new QDoubleSpinBox(this))
    , m_lastBlockDense(new QCheckBox(tr("Last two query rows dense"), this))
    , m_forceDiagonal(new QCheckBox(tr("Force the diagonal"), this))
    , m_forceSink(new QCheckBox(tr("Force the sink (key block 0)"), this))
{
    m_source->setObjectName(QStringLiteral("maskSource"));
    m_source->addItem(tr("Gates"), static_cast<int>(sparse::MaskSource::Gates));
    m_source->addItem(tr("Oracle (ground truth)"), static_cast<int>(sparse::MaskSource::Oracle));
    m_source->addItem(tr("Static (sink + local window)"), static_cast<int>(sparse::MaskSource::Static));
    m_source->setToolTip(tr("Where the mask comes from: the gates' scores, the true block attention itself "
                            "(the best a mask of this density can do), or a fixed pattern"));
    m_mode->setObjectName(QStringLiteral("maskMode"));
    m_mode->addItem(tr("Density (top-k per row)"), static_cast<int>(sparse::MaskRule::Kind::Density));
    m_mode->addItem(tr("Threshold (on the row softmax)"), static_cast<int>(sparse::MaskRule::Kind::Threshold));
    m_slider->setObjectName(QStringLiteral("maskSlider"));
    m_slider->setRange(0, 1000);
    m_value->setObjectName(QStringLiteral("maskValue"));
    m_value->setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
    m_value->setKeyboardTracking(false);
    m_lastBlockDense->setChecked(true);
    m_lastBlockDense->setToolTip(tr("lastBlockDense: the last two query-block rows keep every block (forced)"));
    m_forceDiagonal->setToolTip(tr("Off in faithful mode (seerattention.md \u00a75)"));
    m_forceSink->setToolTip(tr("Off in faithful mode (seerattention.md \u00a75)"));
    connect(m_source, &QComboBox::currentIndexChanged, this, [this] {
        updateModeControls();
        Q_EMIT changed();
    });
    connect(m_mode, &QComboBox::currentIndexChanged, this, [this] {
        if (m_syncing)
            return;
        // Each mode starts from the value published runs use.
        const auto kind = static_cast<sparse::MaskRule::Kind>(m_mode->currentData().toInt());
        updateModeControls();
        m_syncing = true;
        m_value->setValue(kind == sparse::MaskRule::Kind::Density ? 0.5 : 2e-3);
        m_slider->setValue(sliderPosition(rule()));
        m_syncing = false;
        Q_EMIT changed();
    });
    connect(m_slider, &QSlider::valueChanged, this, [this](int position) {
        if (m_syncing)
            return;
        m_syncing = true;
        m_value->setValue(ruleValueAt(rule().kind, position));
        m_syncing = false;
        Q_EMIT changed();
    });
    connect(m_value, &QDoubleSpinBox::valueChanged, this, [this] {
        if (m_syncing)
            return;
        m_syncing = true;
        m_slider->setValue(sliderPosition(rule()));
        m_syncing = false;
        Q_EMIT changed();
    });
    for (QCheckBox *box : {m_lastBlockDense, m_forceDiagonal, m_forceSink})
        connect(box, &QCheckBox::toggled, this, &MaskRuleControls::changed);
    auto *valueRow = new QHBoxLayout;
    valueRow->addWidget(m_slider, 1);
    valueRow->addWidget(m_value);
    auto *form = new QFormLayout(this);
    form->addRow(tr("From"), m_source);
    form->addRow(tr("Rule"), m_mode);
    form->addRow(valueRow);
    form->addRow(m_lastBlockDense);
    form->addRow(m_forceDiagonal);
    form->addRow(m_forceSink);

    updateModeControls();
    m_syncing = true;
    m_value->setValue(0.5);
    m_slider->setValue(sliderPosition(rule()));
    m_syncing = false;
}

int MaskRuleControls::sliderPosition(const sparse::MaskRule &rule)
{
    if (rule.kind == sparse::MaskRule::Kind::Density)
        return std::clamp(static_cast<int>(std::lround(rule.value * 1000.0)), 0, 1000);
    if (!(rule.value > 0))
        return 0;
    const double t = (std::log10(rule.value) - thresholdLogLow) / thresholdLogSpan;
    return std::clamp(static_cast<int>(std::lround(t * 1000.0)), 0, 1000);
}

double MaskRuleControls::ruleValueAt(sparse::MaskRule::Kind kind, int position)
{
    if (kind == sparse::MaskRule::Kind::Density)
        return std::max(position, 1) / 1000.0;
    return std::pow(10.0, thresholdLogLow + thresholdLogSpan * position / 1000.0);
}

void MaskRuleControls::updateModeControls()
{
    // The static pattern has a density, not scores to threshold.
    const bool isStatic = source() == sparse::MaskSource::Static;
    m_syncing = true;
    if (isStatic && m_mode->currentData().toInt() != static_cast<int>(sparse::MaskRule::Kind::Density)) {
        m_mode->setCurrentIndex(m_mode->findData(static_cast<int>(sparse::MaskRule::Kind::Density)));
        m_value->setRange(0.001, 1.0);
        m_value->setValue(0.5);
    }
    m_mode->setEnabled(!isStatic);
    m_forceDiagonal->setEnabled(!isStatic);
    m_forceSink->setEnabled(!isStatic);
    const bool density = m_mode->currentData().toInt() == static_cast<int>(sparse::MaskRule::Kind::Density);
    const double keep = m_value->value();
    if (density) {
        m_value->setDecimals(3);
        m_value->setRange(0.001, 1.0);
        m_value->setSingleStep(0.01);
        m_value->setToolTip(tr("\u03c1: the share of the causal triangle kept (top-k blocks per query row)"));
        m_slider->setToolTip(tr("Density \u03c1 from 0 to 1"));
    } else {
        m_value->setDecimals(6);
        m_value->setRange(1e-6, 0.999);
        m_value->setToolTip(tr("\u03c4: blocks whose share of the row (softmax over J \u2264 I) exceeds it are kept"));
        m_slider->setToolTip(tr("Threshold \u03c4 on a log scale from 1e-5 to 0.5"));
    }
    m_value->setValue(keep);
    m_syncing = false;
}

void MaskRuleControls::setSource(sparse::MaskSource source)
{
    if (const int index = m_source->findData(static_cast<int>(source)); index >= 0)
        m_source->setCurrentIndex(index);
}

sparse::MaskSource MaskRuleControls::source() const
{
    return static_cast<sparse::MaskSource>(m_source->currentData().toInt());
}

QString MaskRuleControls::sourceWord() const
{
    return m_source->currentText().section(QLatin1Char(' '), 0, 0).toLower();
}

sparse::MaskRule MaskRuleControls::rule() const
{
    sparse::MaskRule rule;
    rule.kind = static_cast<sparse::MaskRule::Kind>(m_mode->currentData().toInt());
    rule.value = m_value->value();
    rule.lastBlockDense = m_lastBlockDense->isChecked();
    rule.forceDiagonal = m_forceDiagonal->isChecked();
    rule.forceSink = m_forceSink->isChecked();
    return rule;
}

void MaskRuleControls::setRule(const sparse::MaskRule &rule)
{
    m_syncing = true;
    m_mode->setCurrentIndex(m_mode->findData(static_cast<int>(rule.kind)));
    m_syncing = false;
    updateModeControls();
    m_syncing = true;
    m_value->setValue(rule.value);
    m_slider->setValue(sliderPosition(rule));
    m_lastBlockDense->setChecked(rule.lastBlockDense);
    m_forceDiagonal->setChecked(rule.forceDiagonal);
    m_forceSink->setChecked(rule.forceSink);
    m_syncing = false;
}

void MaskRuleControls::setGatesAvailable(bool available, bool justArrived)
{
    const int gates = m_source->findData(static_cast<int>(sparse::MaskSource::Gates));
    if (auto *items = qobject_cast<QStandardItemModel *>(m_source->model()))
        if (QStandardItem *item = items->item(gates))
            item->setEnabled(available);
    if (available && justArrived)
        m_source->setCurrentIndex(gates);
    else if (!available && source() == sparse::MaskSource::Gates)
        setSource(sparse::MaskSource::Oracle);
}

} // namespace blockscope::views
