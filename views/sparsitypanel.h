#pragma once

#include "jobcontrols.h"
#include "jobrunner.h"
#include "jobs/sparsejobs.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QWidget>

#include <vector>

class QProgressBar;
class QPushButton;

namespace blockscope::views {

class SparsityChart;
class SparsityPointModel;

// The perplexity-against-sparsity sweep of the attention page: which rules (top-k densities or
// thresholds), on which text and how many evaluation windows, with the gates and the baselines
// to compare (static pattern, oracle, random); one job runs them all (runSparsitySweep per
// source), each point drawn as it is evaluated, the dense perplexity as the chart's dashed line.
class SparsityPanel : public QWidget
{
    Q_OBJECT
public:
    explicit SparsityPanel(JobRunner *runner, QWidget *parent = nullptr);
    ~SparsityPanel() override;

    void setModel(const QString &path);
    void setGates(const QString &path);
    // Fills the text field unless the user has set one.
    void setDefaultText(const QString &path);
    void setTextPath(const QString &path);

    // The rules typed in the values field; `error` says what is wrong with them.
    std::vector<sparse::MaskRule> rules(QString *error = nullptr) const;
    // The sources to run: the gates (when loaded) and the baselines ticked.
    std::vector<sparse::MaskSource> sources() const;
    static QString sourceName(sparse::MaskSource source);

    void run();
    void cancel();
    bool isRunning() const;
    QString statusText() const;

    SparsityChart *chart() const { return m_chart; }
    // The points of a source in the last sweep; null when it was not run.
    SparsityPointModel *points(sparse::MaskSource source) const;
    QPushButton *runButton() const { return m_controls->runButton(); }

Q_SIGNALS:
    // status: complete, cancelled or failed
    void sweepEnded(const QString &status);
    void pointShown(int series, int points);

private:
    struct Series
    {
        sparse::MaskSource source;
        SparsityPointModel *points = nullptr;
        int chartSeries = -1;
    };
    void addPoint(int series, const sparse::SparseEvalResult &result);
    void endSweep(const QString &status, const QString &message);
    void updateButtons();
    void exportChartDialog();
    void exportPointsDialog(const QString &suffix);

    JobRunner *m_runner;
    QString m_modelPath;
    QString m_gatesPath;
    std::vector<Series> m_series;

    QLineEdit *m_text = new QLineEdit(this);
    QSpinBox *m_windows = new QSpinBox(this);
    QComboBox *m_kind = new QComboBox(this);
    QLineEdit *m_values = new QLineEdit(this);
    QCheckBox *m_static = new QCheckBox(tr("Static (sink + local window)"), this);
    QCheckBox *m_oracle = new QCheckBox(tr("Oracle (ground-truth top-k)"), this);
    QCheckBox *m_random = new QCheckBox(tr("Random (seeded)"), this);
    QLabel *m_gatesLabel = new QLabel(this);
    JobControls *m_controls;
    SparsityChart *m_chart;
};

} // namespace blockscope::views
