#pragma once

#include "jobs/prunejob.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;
class QStackedWidget;

namespace blockscope::views {

// The pruning page's form: method and its options, target, seed, calibration text and windows,
// protocol, experiment file. It turns what is on screen into a PruneRequest and says what is
// missing; it runs nothing.
class PruneForm : public QWidget
{
    Q_OBJECT
public:
    explicit PruneForm(QWidget *parent = nullptr);

    void setMethod(PruneMethod method);
    PruneMethod method() const;
    // A value >= 1 is a count, one in (0, 1) a fraction (PruneOptions::target).
    void setTarget(double target);
    void setSeed(int seed);
    void setCalibrationWindows(int windows);
    void setEvaluationWindows(int windows);
    void setCalibrationText(const QString &path);
    QString calibrationText() const;
    void setProtocol(const QString &preset);
    QString protocol() const;
    void setExperimentPath(const QString &path);
    QString experimentPath() const;
    void setEvoPress(int offspring, int generations);
    void setFinerCut(const QString &level, const QString &metric, double excludeFraction);
    void setSlebBarriers(int early, int latter);
    void setEarlyStop(bool earlyStop); // SLEB: stop candidates that cannot win
    void setCached(bool cached);
    // "0, 1": blocks no method may remove.
    void setProtectedBlocks(const QString &blocks);
    void setResume(bool resume);

    // The request for `modelPath`; the options start from the method's tiny-ts budgets and take
    // every value the form shows.
    PruneRequest request(const QString &modelPath) const;
    // What stops a run, in words ("Choose a calibration text"); empty when nothing does.
    QString missing(const QString &modelPath) const;

Q_SIGNALS:
    void changed();

private:
    QWidget *slebOptions();
    QWidget *finercutOptions();
    QWidget *evopressOptions();
    QWidget *oneShotOptions(bool angular);
    void browseExperiment();
    void updateTargetMode();

    QComboBox *m_method;
    QComboBox *m_targetMode;
    QDoubleSpinBox *m_target;
    QSpinBox *m_seed;
    QSpinBox *m_calibrationWindows;
    QSpinBox *m_evaluationWindows;
    QCheckBox *m_cached;
    QCheckBox *m_evaluateSteps;
    QComboBox *m_device;
    QStackedWidget *m_methodOptions;
    QSpinBox *m_earlyBarrier = nullptr, *m_latterBarrier = nullptr;
    QCheckBox *m_earlyStop = nullptr;
    QComboBox *m_finercutLevel = nullptr, *m_finercutMetric = nullptr;
    QDoubleSpinBox *m_excludeFraction = nullptr;
    QSpinBox *m_offspring = nullptr, *m_generations = nullptr;
    QComboBox *m_evoFitness = nullptr, *m_teacher = nullptr;
    QSpinBox *m_teacherTopK = nullptr, *m_teacherBudget = nullptr;
    QCheckBox *m_angularAllTokens = nullptr;
    QLineEdit *m_text;
    QComboBox *m_protocol;
    QLineEdit *m_experiment;
    QLineEdit *m_label;
    QLineEdit *m_protected;
    QCheckBox *m_resume;
};

} // namespace blockscope::views
