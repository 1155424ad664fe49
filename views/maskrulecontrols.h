#pragma once

#include "sparse/blockmask.h"
#include "sparse/masksource.h"

#include <QGroupBox>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QSlider;

namespace blockscope::views {

// The attention page's "Mask" box: where masks come from (gates, the oracle, the static pattern)
// and the rule (top-k density or threshold, a slider on a linear or log scale with its value, the
// forced rows and cells). It keeps the slider and the value in step and offers only what the
// source allows; the page selects the masks (sparse::headMask) whenever it says `changed`.
class MaskRuleControls : public QGroupBox
{
    Q_OBJECT
public:
    explicit MaskRuleControls(QWidget *parent = nullptr);

    void setSource(sparse::MaskSource source);
    sparse::MaskSource source() const;
    // The source's first word, lower case, for titles ("gates", "oracle", "static").
    QString sourceWord() const;
    void setRule(const sparse::MaskRule &rule);
    sparse::MaskRule rule() const;
    // Gates are offered only when the snapshot has them: when they just arrived they are picked,
    // when they went away the oracle replaces them.
    void setGatesAvailable(bool available, bool justArrived);

    QComboBox *sourceBox() const { return m_source; }
    QComboBox *modeBox() const { return m_mode; }
    QSlider *slider() const { return m_slider; }

    // Density: linear from 0 to 1; threshold: log10 from 1e-5 to about 0.5. 0..1000 either way.
    static int sliderPosition(const sparse::MaskRule &rule);
    static double ruleValueAt(sparse::MaskRule::Kind kind, int position);

Q_SIGNALS:
    void changed();

private:
    void updateModeControls();

    QComboBox *m_source;
    QComboBox *m_mode;
    QSlider *m_slider;
    QDoubleSpinBox *m_value;
    QCheckBox *m_lastBlockDense;
    QCheckBox *m_forceDiagonal;
    QCheckBox *m_forceSink;
    bool m_syncing = false;
};

} // namespace blockscope::views
