#pragma once

#include "jobcontrols.h"
#include "jobrunner.h"
#include "jobs/sparsejobs.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLineEdit>
#include <QSpinBox>
#include <QTableView>
#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;

namespace blockscope::views {

class GateEvalModel;
class GateTrainModel;
class LossChart;
class MessageBanner;

// Gate training as a job (seerattention.md §3, §4): the form (calibration text, output gate file,
// steps, batch, learning rate, block size, seed, resume), Train and Cancel, the live loss curve
// with the held-out evaluations, and their table. Steps and evaluations reach the UI thread
// through queued calls guarded by a QPointer. A cancelled run leaves its last state beside the
// gate file; Resume continues from there and the curve carries on where it stopped.
class GateTrainPanel : public QWidget
{
    Q_OBJECT
public:
    explicit GateTrainPanel(JobRunner *runner, QWidget *parent = nullptr);
    ~GateTrainPanel() override;

    void setModel(const QString &path);
    QString modelPath() const { return m_modelPath; }
    // Fills the calibration text field unless the user has set one.
    void setDefaultText(const QString &path);
    void setCalibrationText(const QString &path);
    void setOutputPath(const QString &path);
    QString outputPath() const;
    void setSteps(qint64 steps);
    void setHeldOutWindows(int windows);
    void setCalibrationWindows(int windows); // 0: all
    void setResume(bool resume);
    bool resume() const;

    // The job the form describes (without callbacks); missing() says what stops it from running.
    sparse::GateTrainJob request() const;
    QString missing() const;

    void train();
    void cancel();
    bool isRunning() const;
    QString statusText() const;

    GateTrainModel *steps() const { return m_steps; }
    GateEvalModel *evaluations() const { return m_evals; }
    LossChart *chart() const { return m_chart; }
    QPushButton *trainButton() const { return m_controls->runButton(); }
    QPushButton *cancelButton() const { return m_controls->cancelButton(); }

Q_SIGNALS:
    // The gate file has been written by a finished run.
    void gatesWritten(const QString &path);
    // status: complete, cancelled or failed
    void trainingEnded(const QString &status);
    void stepShown(qint64 step);

private:
    void appendStep(const sparse::GateTrainStep &step);
    void appendEval(const sparse::GateEvalPoint &point);
    void finish(const sparse::GateTrainResult &result, double seconds);
    void endRun(const QString &status, const QString &message);
    void updateButtons();
    QString defaultOutputPath() const;

    JobRunner *m_runner;
    QString m_modelPath;
    bool m_outputEdited = false;
    qint64 m_lastStep = -1;

    MessageBanner *m_banner;
    QLineEdit *m_text = new QLineEdit(this);
    QLineEdit *m_output = new QLineEdit(this);
    QComboBox *m_protocol = new QComboBox(this);
    QSpinBox *m_stepsBox = new QSpinBox(this);
    QSpinBox *m_batch = new QSpinBox(this);
    QDoubleSpinBox *m_lr = new QDoubleSpinBox(this);
    QComboBox *m_blockSize = new QComboBox(this);
    QSpinBox *m_seed = new QSpinBox(this);
    QSpinBox *m_heldOut = new QSpinBox(this);
    QSpinBox *m_trainWindows = new QSpinBox(this);
    QCheckBox *m_resume = new QCheckBox(tr("Resume from the saved training state"), this);
    JobControls *m_controls;
    GateTrainModel *m_steps;
    GateEvalModel *m_evals;
    LossChart *m_chart;
    QTableView *m_evalTable = new QTableView(this);
};

} // namespace blockscope::views
