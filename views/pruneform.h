#pragma once

#include "jobs/prunejob.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLineEdit>
#include <QSpinBox>
#include <QStackedWidget>
#include <QWidget>

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
    // Local processes the search runs as (1: inside the app; more: ranks of blockscope-cli that
    // share its candidates, issue 16).
    int processes() const;
    void setProcesses(int n);

Q_SIGNALS:
    void changed();

private:
    QWidget *slebOptions();
    QWidget *finercutOptions();
    QWidget *evopressOptions();
    QWidget *oneShotOptions(bool angular);
    void browseExperiment();
    void updateTargetMode();

    QComboBox *m_method = new QComboBox(this);
    QComboBox *m_targetMode = new QComboBox(this);
    QDoubleSpinBox *m_target = new QDoubleSpinBox(this);
    QSpinBox *m_seed = new QSpinBox(this);
    QSpinBox *m_calibrationWindows = new QSpinBox(this);
    QSpinBox *m_evaluationWindows = new QSpinBox(this);
    QCheckBox *m_cached = new QCheckBox(tr("Cache block inputs"), this);
    QCheckBox *m_evaluateSteps = new QCheckBox(tr("Evaluate every step"), this);
    QComboBox *m_device = new QComboBox(this);
    QSpinBox *m_processes = new QSpinBox(this);
    QStackedWidget *m_methodOptions = new QStackedWidget(this);
    QSpinBox *m_earlyBarrier = nullptr, *m_latterBarrier = nullptr;
    QCheckBox *m_earlyStop = nullptr;
    QComboBox *m_finercutLevel = nullptr, *m_finercutMetric = nullptr;
    QDoubleSpinBox *m_excludeFraction = nullptr;
    QSpinBox *m_offspring = nullptr, *m_generations = nullptr;
    QComboBox *m_evoFitness = nullptr, *m_teacher = nullptr;
    QSpinBox *m_teacherTopK = nullptr, *m_teacherBudget = nullptr;
    QCheckBox *m_angularAllTokens = nullptr;
    QLineEdit *m_text = new QLineEdit(this);
    QComboBox *m_protocol = new QComboBox(this);
    QLineEdit *m_experiment = new QLineEdit(this);
    QLineEdit *m_label = new QLineEdit(this);
    QLineEdit *m_protected = new QLineEdit(this);
    QCheckBox *m_resume = new QCheckBox(tr("Resume the last unfinished run"), this);
};

} // namespace blockscope::views
