#pragma once

#include "jobrunner.h"
#include "modelcontroller.h"

#include <QMainWindow>

#include <memory>

class QLabel;
class QLineEdit;
class QMenu;
class QStackedWidget;
class QTabWidget;
class QTimer;
class QTreeView;

namespace blockscope {
class ModelHandle;
class TensorStatsCache;
} // namespace blockscope

namespace blockscope::views {
class DetailsPane;
class EvaluationPanel;
class JobsPanel;
class LogRelay;
class LogView;
class MessageBanner;
class ModelFilterProxy;
class ModelTreeModel;
class PruningPage;
class AttentionPage;
class PpaPage;
} // namespace blockscope::views

namespace blockscope::gui {

// The workbench window: the model tree with its filter box in the middle, details on the right,
// jobs and the log below. Opening and statistics run as background jobs; a failed open shows
// the error in a banner and leaves the model that was open before.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // Opens a checkpoint file or folder in the background.
    void openPath(const QString &path);
    // Selects a tensor by name or a group by path ("Block 0/MLP"); false when there is none.
    bool selectItem(const QString &item);
    void followLog(views::LogRelay *relay);
    // Reads an experiment file onto the pruning page (in the background) and shows the page, unless
    // the PPA page is showing: it reads the same file and stays.
    void openExperiment(const QString &path);
    // "model", "pruning", "attention" or "ppa"; false for any other name.
    bool showPage(const QString &name);
    // Switches a unit off or on for what-if (the model tree's context menu does this).
    void toggleWhatIf(const QModelIndex &treeIndex);
    void restoreLayout();

    std::shared_ptr<const ModelHandle> model() const { return m_models->model(); }
    bool statsRunning() const { return m_models->statsRunning(); }
    views::ModelController *modelController() const { return m_models; }
    views::JobRunner *jobRunner() const { return m_runner; }
    views::ModelTreeModel *treeModel() const { return m_treeModel; }
    views::ModelFilterProxy *filterProxy() const { return m_proxy; }
    QTreeView *treeView() const { return m_tree; }
    QLineEdit *filterEdit() const { return m_filter; }
    views::MessageBanner *banner() const { return m_banner; }
    views::DetailsPane *detailsPane() const { return m_details; }
    views::JobsPanel *jobsPanel() const { return m_jobs; }
    views::LogView *logView() const { return m_log; }
    views::EvaluationPanel *evaluationPanel() const { return m_evaluation; }
    views::PruningPage *pruningPage() const { return m_pruning; }
    views::AttentionPage *attentionPage() const { return m_attention; }
    views::PpaPage *ppaPage() const { return m_ppa; }
    QTabWidget *pages() const { return m_pages; }

    static QString emptyHint();

Q_SIGNALS:
    void modelOpened(const QString &path);
    void openFailed(const QString &path, const QString &message);
    // The statistics job ended (finished, cancelled or failed); the tree shows what it computed.
    void statsDone();

protected:
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;
    void closeEvent(QCloseEvent *event) override;

private:
    void createActions();
    // mainwindow_pruning.cpp
    QWidget *createPages();
    void createPruningActions(QMenu *file);
    void openExperimentDialog();
    void exportModelDialog();
    void exportReportDialog();
    void treeContextMenu(const QPoint &pos);
    // mainwindow_attention.cpp
    QWidget *createAttentionPage();
    // mainwindow_ppa.cpp
    QWidget *createPpaPage();
    void createDocks();
    void rebuildRecentMenu();
    void buildSampleMenu(QMenu *menu);
    void openFileDialog();
    void openFolderDialog();
    void showOpenedModel(const QString &path);
    void showOpenError(const QString &path, const QString &message);
    void refreshStats();
    void fitColumns();
    void updateStatusBar();

    views::JobRunner *m_runner;
    views::ModelTreeModel *m_treeModel;
    views::ModelFilterProxy *m_proxy;
    views::MessageBanner *m_banner;
    views::DetailsPane *m_details;
    views::JobsPanel *m_jobs;
    views::LogView *m_log;
    views::EvaluationPanel *m_evaluation;
    views::PruningPage *m_pruning = nullptr;
    views::AttentionPage *m_attention = nullptr;
    views::PpaPage *m_ppa = nullptr;
    QTabWidget *m_pages = nullptr;
    QLabel *m_statusWhatIf = nullptr;
    QStackedWidget *m_stack;
    QTreeView *m_tree;
    QLineEdit *m_filter;
    QLabel *m_statusModel;
    QMenu *m_recentMenu = nullptr;
    QMenu *m_viewMenu = nullptr;
    views::ModelController *m_models;
};

} // namespace blockscope::gui
