#pragma once

#include "experimentdocument.h"
#include "jobrunner.h"
#include "store/experimentfile.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QToolButton>
#include <QWidget>

#include <functional>
#include <vector>

class QMenu;
class QTableView;

namespace blockscope::ppa {
struct PpaReport;
}

namespace blockscope::views {

class BlockShareModel;
class BlockSharesChart;
class MessageBanner;
class PpaChart;
class PpaPointModel;
class PpaRunListModel;

// The PPA page (../shared/specs/ppa.md): the runs (and sparsity sweeps) of an experiment file
// with their PPA points; quality against one axis (tokens/s, ms/token, MB, mJ/token), measured and
// modelled side by side, with the Pareto frontier and the dense model; the selected run's points
// in a table whose headers say measured or modelled; the block shares of the selected point with
// its removed units; "Compute PPA" for a run through the job runner; every chart to PNG/SVG/PDF
// and its data to CSV/JSON.
// Split by feature: ppapage.cpp (layout, selection), _runs.cpp (experiment files), _compute.cpp
// (the PPA job), _export.cpp (files).
class PpaPage : public QWidget
{
    Q_OBJECT
public:
    explicit PpaPage(JobRunner *runner, QWidget *parent = nullptr);
    ~PpaPage() override;

    // The model open in the window: Compute PPA measures it when a run's own checkpoint is gone.
    void setModel(const QString &path);
    QString modelPath() const { return m_modelPath; }

    // Reads an experiment file in the background and shows its runs and sweeps with PPA points.
    // Reads the file into the experiment document (the page's own until setDocument shares one).
    void openExperiment(const QString &path);
    void openExperimentDialog();
    // The experiment the page shows, shared with the pruning page in the window.
    void setDocument(ExperimentDocument *document);
    ExperimentDocument *document() const { return m_document; }
    // Reads the open file again (after a pruning run or a PPA job wrote to it).
    void reload();
    QString experimentPath() const { return m_path; }

    int runCount() const { return static_cast<int>(m_sources.size()); }
    int rowForId(const QString &id) const;
    QString runId(int row) const;
    // The run whose points the table and the block chart show.
    void selectRun(int row);
    int currentRun() const { return m_current; }
    PpaPointModel *pointModel(int row) const;
    // The table row (point) whose units the block chart shows.
    void selectPoint(int row);
    int currentPoint() const;

    // Measures and models the dense model and every step of the current run (not a sweep) with
    // the options the page shows, writing the points into the experiment file.
    void computePpa();
    void cancelCompute();
    bool isComputing() const;
    // Devices to predict for (names from the built-in table) and the run's measurement settings.
    void setPredictFor(const QStringList &devices);
    QStringList predictFor() const;

    bool exportChart(const QString &path, QString *error = nullptr);
    bool exportBlockChart(const QString &path, QString *error = nullptr);
    // The points of the runs on the chart: CSV or JSON by the suffix.
    bool exportPoints(const QString &path, QString *error = nullptr) const;
    // The selected point's unit shares: CSV or JSON by the suffix.
    bool exportBlockShares(const QString &path, QString *error = nullptr) const;

    PpaChart *chart() const { return m_chart; }
    BlockSharesChart *blockChart() const { return m_blocks; }
    BlockShareModel *blockModel() const { return m_blockModel; }
    PpaRunListModel *runList() const { return m_runList; }
    QTableView *runTable() const { return m_runTable; }
    QTableView *pointTable() const { return m_pointTable; }
    MessageBanner *banner() const { return m_banner; }
    QComboBox *qualityBox() const { return m_quality; }
    QComboBox *axisBox() const { return m_axis; }
    QComboBox *shownBox() const { return m_shown; }
    QComboBox *deviceBox() const { return m_device; }
    QComboBox *shareBox() const { return m_share; }
    QCheckBox *byBlockBox() const { return m_byBlock; }
    QPushButton *computeButton() const { return m_computeButton; }
    QString statusText() const;

Q_SIGNALS:
    void experimentLoaded(const QString &path, int runs);
    void experimentFailed(const QString &path, const QString &message);
    // status: complete, cancelled or failed
    void computeEnded(const QString &status);

private:
    struct Source
    {
        QString id;
        QString name;
        bool sweep = false;
        RunInfo info; // runs only
        PpaPointModel *points = nullptr;
        int chartRun = -1;
    };

    // ppapage.cpp
    QWidget *createToolbar();
    QWidget *createSidePanel();
    QWidget *createComputeBox();
    void rebuildChart();
    void refreshDevices();
    void updateButtons();
    void setStatus(const QString &text);
    void showPointUnits();
    void resizePointColumns();

    // ppapage_runs.cpp
    void showExperiment(const QString &path, const Experiment &experiment, const QString &keepRunId);
    void clearSources();

    // ppapage_compute.cpp
    void livePoint(const ppa::PpaPoint &point);
    void finishCompute(const QString &status, const QString &message);

    // ppapage_export.cpp
    QMenu *createExportMenu();
    void exportChartDialog(bool blocks);
    void exportDataDialog(bool blocks);
    // A save dialog beside the experiment (its name + suffix suggested); `write` saves to the path.
    void exportDialog(const QString &title, const QString &suffix, const QString &filter,
        const std::function<bool(const QString &, QString *)> &write);

    JobRunner *m_runner;
    ExperimentDocument *m_document = nullptr;
    QString m_modelPath;
    QString m_path;
    std::vector<Source> m_sources;
    int m_current = -1;
    JobId m_job = 0;
    int m_liveRun = -1; // the source whose points the running job replaces
    std::vector<ppa::PpaPoint> m_livePoints;
    QStringList m_predictFor;
    QString m_statusAfterLoad; // what the next read of the file reports instead of its run count

    MessageBanner *m_banner;
    QLabel *m_file = new QLabel(this);
    QLabel *m_status = new QLabel(this);
    QComboBox *m_quality = new QComboBox(this);
    QComboBox *m_axis = new QComboBox(this);
    QComboBox *m_shown = new QComboBox(this);
    QComboBox *m_device = new QComboBox(this);
    QCheckBox *m_logQuality = new QCheckBox(tr("Log scale"), this);
    QComboBox *m_share = new QComboBox(this);
    QCheckBox *m_byBlock = new QCheckBox(tr("By block"), this);
    bool m_byBlockChosen = false; // the user set "By block"; until then it follows the model's depth
    PpaChart *m_chart;
    BlockShareModel *m_blockModel;
    BlockSharesChart *m_blocks;
    PpaRunListModel *m_runList;
    QTableView *m_runTable;
    QTableView *m_pointTable;
    QComboBox *m_computeDevice = new QComboBox(this);
    QSpinBox *m_batch = new QSpinBox(this);
    QSpinBox *m_seq = new QSpinBox(this);
    QSpinBox *m_threads = new QSpinBox(this);
    QToolButton *m_predictButton = new QToolButton(this);
    QPushButton *m_computeButton = new QPushButton(tr("Compute PPA"), this);
    QPushButton *m_cancelButton = new QPushButton(tr("Cancel"), this);
};

} // namespace blockscope::views
