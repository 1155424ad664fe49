#include "mainwindow.h"

#include "charts/chartexport.h"

#include "evaluationpanel.h"

#include "detailspane.h"
#include "format.h"
#include "jobspanel.h"
#include "logview.h"
#include "messagebanner.h"
#include "model/modelhandle.h"
#include "modelfilterproxy.h"
#include "modeltreemodel.h"

#include <QAction>
#include <QApplication>
#include <QDockWidget>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QStyle>
#include <QTimer>
#include <QTreeView>
#include <QVBoxLayout>

#include <functional>

namespace blockscope::gui {

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
    , m_runner(new views::JobRunner(this))
    , m_treeModel(new views::ModelTreeModel(this))
    , m_proxy(new views::ModelFilterProxy(this))
    , m_banner(new views::MessageBanner)
    , m_details(new views::DetailsPane)
    , m_jobs(new views::JobsPanel)
    , m_log(new views::LogView)
    , m_evaluation(new views::EvaluationPanel(m_runner))
    , m_stack(new QStackedWidget)
    , m_tree(new QTreeView)
    , m_filter(new QLineEdit)
    , m_statusModel(new QLabel)
    , m_models(new views::ModelController(m_runner, this))
{
    setWindowTitle(QStringLiteral("Blockscope"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/blockscope.svg")));
    setAcceptDrops(true);

    m_proxy->setSourceModel(m_treeModel);
    m_tree->setObjectName(QStringLiteral("modelTree"));
    m_tree->setModel(m_proxy);
    m_tree->setUniformRowHeights(true);
    m_tree->setAlternatingRowColors(true);
    m_tree->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSortIndicator(-1, Qt::AscendingOrder); // file order until a header is clicked
    m_tree->setSortingEnabled(true);
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentChanged, this,
        [this](const QModelIndex &current) { m_details->showItem(m_proxy->mapToSource(current)); });
    m_details->setTreeModel(m_treeModel);

    m_filter->setObjectName(QStringLiteral("filter"));
    m_filter->setPlaceholderText(tr("Filter by name (q_proj, Block 3, norm)"));
    m_filter->setClearButtonEnabled(true);
    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_proxy->setFilterFixedString(text);
        if (!text.isEmpty())
            m_tree->expandAll();
    });

    auto *hint = new QLabel(emptyHint());
    hint->setObjectName(QStringLiteral("emptyHint"));
    hint->setAlignment(Qt::AlignCenter);
    hint->setWordWrap(true);
    hint->setStyleSheet(QStringLiteral("color: #777777; font-size: 16pt;"));
    m_stack->addWidget(hint);
    auto *treePage = new QWidget;
    auto *treeLayout = new QVBoxLayout(treePage);
    treeLayout->setContentsMargins(0, 0, 0, 0);
    treeLayout->addWidget(m_filter);
    treeLayout->addWidget(m_tree, 1);
    m_stack->addWidget(treePage);

    auto *central = new QWidget;
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_banner);
    layout->addWidget(createPages(), 1); // the model page (m_stack) and the pruning page
    setCentralWidget(central);

    m_jobs->setRunner(m_runner);
    connect(m_models, &views::ModelController::opened, this, &MainWindow::showOpenedModel);
    connect(m_models, &views::ModelController::openFailed, this, &MainWindow::showOpenError);
    // Statistics fill in while the job runs; the tree takes a copy of the cache each time.
    connect(m_models, &views::ModelController::statsChanged, this, &MainWindow::refreshStats);
    connect(m_models, &views::ModelController::statsDone, this, [this] {
        refreshStats();
        fitColumns();
        Q_EMIT statsDone();
    });
    connect(m_models, &views::ModelController::statsFailed, this, [this](const QString &message) {
        m_banner->showMessage(views::MessageBanner::Kind::Warning, tr("Statistics stopped: %1").arg(message));
    });

    createDocks();
    createActions();
    statusBar()->addPermanentWidget(m_statusWhatIf);
    statusBar()->addPermanentWidget(m_statusModel);
    updateStatusBar();
    resize(1400, 900);
}

MainWindow::~MainWindow()
{
    // Jobs hold the model and its cache; stop them before the members they use go away.
    m_runner->cancelAll();
}

QString MainWindow::emptyHint()
{
    return tr("Open a model (File > Open) or drop a folder here");
}

void MainWindow::createDocks()
{
    auto dock = [this](const QString &title, const QString &name, QWidget *w, Qt::DockWidgetArea area) {
        auto *d = new QDockWidget(title, this);
        d->setObjectName(name);
        d->setWidget(w);
        addDockWidget(area, d);
        return d;
    };
    auto *details = dock(tr("Details"), QStringLiteral("detailsDock"), m_details, Qt::RightDockWidgetArea);
    auto *jobs = dock(tr("Jobs"), QStringLiteral("jobsDock"), m_jobs, Qt::BottomDockWidgetArea);
    auto *log = dock(tr("Log"), QStringLiteral("logDock"), m_log, Qt::BottomDockWidgetArea);
    // Perplexity with its protocol card; tabbed with the details so the tree keeps its width.
    auto *evaluation = dock(tr("Evaluation"), QStringLiteral("evaluationDock"), m_evaluation, Qt::RightDockWidgetArea);
    tabifyDockWidget(details, evaluation);
    details->raise();
    splitDockWidget(jobs, log, Qt::Horizontal);
    resizeDocks({details}, {330}, Qt::Horizontal);
    resizeDocks({jobs, log}, {200, 200}, Qt::Vertical);
    resizeDocks({jobs, log}, {520, 880}, Qt::Horizontal);
}

void MainWindow::createActions()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    QAction *openFile = file->addAction(tr("&Open File\u2026"), this, &MainWindow::openFileDialog);
    openFile->setShortcut(QKeySequence::Open);
    QAction *openFolder = file->addAction(tr("Open &Folder\u2026"), this, &MainWindow::openFolderDialog);
    openFolder->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    rebuildRecentMenu();
    buildSampleMenu(file->addMenu(tr("Open &Sample Model")));
    createPruningActions(file);
    file->addSeparator();
    file->addAction(tr("C&hart Export Options\u2026"), this, [this] { views::chartExportOptionsDialog(this); })
        ->setToolTip(tr("Size (px or cm), PNG resolution, font scale and theme of every chart export"));
    QAction *stats = file->addAction(tr("Compute &Statistics"), m_models, &views::ModelController::computeStats);
    stats->setToolTip(tr("Resume statistics after a cancel; computed tensors are kept"));
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    m_viewMenu = menuBar()->addMenu(tr("&View"));
    m_viewMenu->addAction(tr("&Expand All"), m_tree, &QTreeView::expandAll);
    m_viewMenu->addAction(tr("&Collapse All"), m_tree, &QTreeView::collapseAll);
    QAction *find = m_viewMenu->addAction(tr("&Filter"), this, [this] {
        m_filter->setFocus();
        m_filter->selectAll();
    });
    find->setShortcut(QKeySequence::Find);
    m_viewMenu->addSeparator();
    for (auto *d : findChildren<QDockWidget *>())
        m_viewMenu->addAction(d->toggleViewAction());

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Blockscope"), this, [this] {
        QMessageBox::about(this, tr("About Blockscope"),
            tr("<b>Blockscope %1</b><p>A workbench for compressing and understanding language "
               "models block by block.</p>")
                .arg(QApplication::applicationVersion()));
    });
}

void MainWindow::updateStatusBar()
{
    const auto model = m_models->model();
    if (!model) {
        m_statusModel->setText(tr("No model"));
        return;
    }
    const auto &a = model->architecture();
    m_statusModel->setText(tr("%1 \u00b7 %2 blocks \u00b7 %3 parameters")
                               .arg(QString::fromStdString(formatName(model->format())))
                               .arg(a.layers)
                               .arg(views::formatCount(model->parameterCount())));
}

void MainWindow::fitColumns()
{
    // Widths from every row, expanded or not (resizeColumnToContents sees only visible rows), so
    // expanding a block never reveals clipped numbers. Stats columns get room for the widest
    // number formatStat() can produce even before statistics arrive, so they do not jump.
    const QFontMetrics fm(m_tree->font());
    QFont boldFont = m_tree->font();
    boldFont.setBold(true);
    const QFontMetrics bold(boldFont);
    const int padding = 2 * m_tree->style()->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, m_tree) + 8;
    const int statWidth = fm.horizontalAdvance(QStringLiteral("-8.888e-08")) + padding;
    std::vector<int> widths(views::ModelTreeModel::ColumnCount, 0);
    for (int c = 0; c < views::ModelTreeModel::ColumnCount; ++c)
        widths[static_cast<std::size_t>(c)]
            = fm.horizontalAdvance(m_treeModel->headerData(c, Qt::Horizontal).toString()) + padding + 6;
    for (int c = views::ModelTreeModel::Min; c <= views::ModelTreeModel::L2; ++c)
        widths[static_cast<std::size_t>(c)] = std::max(widths[static_cast<std::size_t>(c)], statWidth);

    std::function<void(const QModelIndex &, int)> visit = [&](const QModelIndex &parent, int depth) {
        for (int r = 0; r < m_treeModel->rowCount(parent); ++r) {
            const QModelIndex index = m_treeModel->index(r, 0, parent);
            const bool topLevel = depth == 1;
            for (int c = 0; c < views::ModelTreeModel::ColumnCount; ++c) {
                const QString text = index.siblingAtColumn(c).data().toString();
                int w = (topLevel && c == 0 ? bold : fm).horizontalAdvance(text) + padding;
                if (c == 0)
                    w += depth * m_tree->indentation();
                auto &slot = widths[static_cast<std::size_t>(c)];
                slot = std::max(slot, w);
            }
            visit(index, depth + 1);
        }
    };
    visit(QModelIndex(), 1);

    // The name column takes what the numbers leave, within reason: long canonical names are
    // also in the tooltip and the details pane.
    int others = 0;
    for (int c = 1; c < views::ModelTreeModel::ColumnCount; ++c)
        others += widths[static_cast<std::size_t>(c)];
    const int available = m_tree->viewport()->width() - others;
    auto &name = widths[views::ModelTreeModel::Name];
    name = std::clamp(std::max(name, available), 200, std::max(480, available));
    for (int c = 0; c < views::ModelTreeModel::ColumnCount; ++c)
        m_tree->header()->resizeSection(c, widths[static_cast<std::size_t>(c)]);
}

bool MainWindow::selectItem(const QString &item)
{
    QModelIndex source = m_treeModel->indexForTensor(item);
    if (!source.isValid())
        source = m_treeModel->indexForGroup(item.split(QLatin1Char('/')));
    if (!source.isValid())
        return false;
    const QModelIndex index = m_proxy->mapFromSource(source);
    for (QModelIndex p = index.parent(); p.isValid(); p = p.parent())
        m_tree->expand(p);
    m_tree->expand(index);
    m_tree->setCurrentIndex(index);
    m_tree->scrollTo(index);
    return true;
}

void MainWindow::followLog(views::LogRelay *relay)
{
    m_log->follow(relay);
}

void MainWindow::restoreLayout()
{
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    m_runner->cancelAll();
    QMainWindow::closeEvent(event);
}

} // namespace blockscope::gui
