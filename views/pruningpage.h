#pragma once

#include "experimentdocument.h"
#include "jobcontrols.h"
#include "jobrunner.h"
#include "store/experimentfile.h"

#include <QLabel>
#include <QList>
#include <QTimer>
#include <QWidget>

#include <memory>
#include <vector>

class QComboBox;
class QCheckBox;
class QProgressBar;
class QPushButton;
class QSplitter;
class QStackedWidget;
class QTableView;
class QTabWidget;

namespace blockscope {
struct PruneJobReport;
}

namespace blockscope::views {

class LayerMap;
class MessageBanner;
class PruneForm;
class RunCompareModel;
class RunListModel;
class TraceChart;
class TraceTableModel;
class WhatIfController;

// The pruning page: a form to start a search, the trace chart that grows step by step (one line
// per run), the layer map of the selected run (scores, removal order, what-if toggles), and the
// runs of the open experiment file, two of which can be compared side by side.
// Split by feature: pruningpage.cpp (layout, what-if set-up), _select.cpp (selection, layer maps,
// compare view), _run.cpp (search jobs), _runs.cpp (run bookkeeping, experiment files), _export.cpp
// (charts and traces to files).
class PruningPage : public QWidget
{
    Q_OBJECT
public:
    explicit PruningPage(JobRunner *runner, QWidget *parent = nullptr);
    ~PruningPage() override;

    // The model searches and what-if run on; empty path: none.
    void setModel(const QString &path, int layers);
    QString modelPath() const { return m_modelPath; }
    // Fills the calibration text field unless the user has set one.
    void setDefaultCalibrationText(const QString &path);

    // Starts a search with what the form shows; errors appear in the banner.
    void run();
    // Stops the search; the steps already shown stay, and so does the file.
    void cancel();
    // The blockscope-cli a search of several processes runs (default: the one beside the app).
    void setCli(const QString &path) { m_cli = path; }
    bool isRunning() const;
    QString statusText() const;

    // Reads an experiment file in the background and shows its runs (replacing runs of another
    // file; a search in progress stays). New searches go into this file.
    // Reads the file into the experiment document (the page's own until setDocument shares one).
    void openExperiment(const QString &path);
    void openExperimentDialog();
    // The experiment the page shows and adds to, shared with the PPA page in the window.
    void setDocument(ExperimentDocument *document);
    ExperimentDocument *document() const { return m_document; }

    int runCount() const;
    int rowForRunId(const QString &id) const;
    ExperimentRun runSnapshot(int row) const;
    TraceTableModel *traceModel(int row) const;
    int chartRun(int row) const;
    void selectRuns(const QList<int> &rows);
    QList<int> selectedRuns() const;
    bool isComparing() const;

    // File > Export Model: the selected run's configuration as a Hugging Face folder (core's
    // exportHuggingFace), in the background. What is exported: the what-if configuration when the
    // user has toggled units, else the run's last step. Without a saved run selected, false and why.
    bool exportModel(const QString &folder, bool force, QString *error = nullptr);
    // What exportModel would write now, for the menu and the dialog ("run-0001 (sleb), step 2").
    QString exportModelDescription() const;
    // File > Export Report: the experiment file of the selected run (else the form's) as an HTML or
    // PDF report (by the suffix), read in the background and drawn here. False and why when there
    // is no experiment file.
    bool exportReport(const QString &out, QString *error = nullptr);
    QString reportSource() const;

    bool exportChart(const QString &path, QString *error = nullptr);
    // CSV or JSON by the suffix, through core's trace export.
    bool exportTrace(int row, const QString &path, QString *error = nullptr);

    PruneForm *form() const { return m_form; }
    TraceChart *chart() const { return m_chart; }
    LayerMap *layerMap() const { return m_map; }
    LayerMap *compareMap(int side) const { return side == 0 ? m_compareA : m_compareB; }
    RunListModel *runList() const { return m_runList; }
    RunCompareModel *compareModel() const { return m_compare; }
    WhatIfController *whatIf() const { return m_whatIf; }
    MessageBanner *banner() const { return m_banner; }
    QPushButton *runButton() const { return m_controls->runButton(); }
    QPushButton *cancelButton() const { return m_controls->cancelButton(); }
    QTableView *runTable() const { return m_runTable; }
    QLabel *whatIfLabel() const { return m_whatIfLabel; }

Q_SIGNALS:
    void runStarted(int row);
    void stepShown(int row, int steps);
    // A candidate of the step in flight was scored; `scored` of that step so far.
    void candidateShown(int row, int step, int scored);
    // status: complete, cancelled or failed
    void runEnded(int row, const QString &status);
    void experimentLoaded(const QString &path, int runs);
    void experimentFailed(const QString &path, const QString &message);
    void modelExported(const QString &folder, const QString &summary);
    void modelExportFailed(const QString &folder, const QString &message);
    void reportExported(const QString &path);
    void reportExportFailed(const QString &path, const QString &message);

private:
    struct PageRun
    {
        int key = 0;
        RunInfo info;
        TraceTableModel *trace = nullptr;
        int chartRun = -1;
        QString file; // experiment file it lives in; empty: not saved
        bool live = false;
        // The step being searched now: its index and the candidates scored so far (greedy methods).
        int stepInFlight = -1;
        std::vector<CandidateScore> candidatesInFlight;
    };

    // pruningpage.cpp
    QWidget *createChartPanel();
    QWidget *createMapPanel();
    QWidget *createRunsPanel();
    void updateSelectionView();
    void updateButtons();
    void configureWhatIf();
    void showLayerMapFor(int row);
    void setMapPage(int page);

    // pruningpage_run.cpp
    void appendStep(int key, const TraceStep &step);
    // A candidate scored inside the step in flight: the layer map fills in cell by cell.
    void candidateScored(int key, const CandidateRecord &candidate);
    // The run exists in its file and the dense perplexity is known: the chart gets its step-0 point.
    void runAnnounced(int key, const RunInfo &info);
    void finishRun(int key, const PruneJobReport &report);
    void endRun(int key, const QString &status, const QString &message);

    // pruningpage_runs.cpp
    int addRun(RunInfo info, std::vector<TraceStep> steps, const QString &file, bool live);
    void removeRunAt(int row);
    void refreshRow(int row);
    int rowForKey(int key) const;
    void mergeExperiment(const QString &path, const Experiment &experiment);
    void reloadAfterRun(const QString &path);
    void documentLoaded(const QString &path, ExperimentDocument::Read how);
    void documentFailed(const QString &path, const QString &message, ExperimentDocument::Read how);
    void showCompare(int a, int b);

    // pruningpage_export.cpp
    void exportChartDialog();
    void exportTraceDialog(const QString &suffix);

    JobRunner *m_runner;
    QString m_cli;
    ExperimentDocument *m_document = nullptr;
    QString m_modelPath;
    int m_layers = 0;
    std::vector<PageRun> m_runs;
    int m_nextKey = 1;
    int m_liveKey = 0;
    QString m_runStage;

    MessageBanner *m_banner;
    PruneForm *m_form;
    JobControls *m_controls;
    QLabel *m_whatIfLabel = new QLabel(this);
    TraceChart *m_chart;
    QComboBox *m_metric;
    QCheckBox *m_logScale;
    QStackedWidget *m_mapStack;
    QSplitter *m_bottom = nullptr;
    LayerMap *m_map;
    LayerMap *m_compareA;
    LayerMap *m_compareB;
    QTableView *m_compareTable;
    RunCompareModel *m_compare;
    RunListModel *m_runList;
    QTableView *m_runTable;
    QTableView *m_stepTable;
    QTabWidget *m_tabs;
    WhatIfController *m_whatIf;
    QTimer *m_whatIfDebounce = new QTimer(this);
};

} // namespace blockscope::views
