#include "sparsitypanel.h"

#include "formwidgets.h"

#include "charts/sparsitychart.h"
#include "jobs/jobcontext.h"
#include "sparsitypointmodel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>

namespace blockscope::views {

namespace {
const QString sweepTag = QStringLiteral("sparsity-sweep");
}

SparsityPanel::SparsityPanel(JobRunner *runner, QWidget *parent)
    : QWidget(parent)
    , m_runner(runner)
    , m_controls(new JobControls(runner, tr("Run sweep"),
          {QStringLiteral("runSweep"), QStringLiteral("cancelSweep"), QStringLiteral("sweepStatus")}, this))
    , m_chart(new SparsityChart(this))
{
    setObjectName(QStringLiteral("sparsityPanel"));
    m_text->setObjectName(QStringLiteral("sweepText"));
    m_text->setPlaceholderText(tr("Evaluation text (.txt)"));
    QHBoxLayout *textRow
        = openFileRow(m_text, tr("Evaluation Text"), tr("Text (*.txt *.raw *.jsonl *.json);;All files (*)"));
    m_windows->setRange(0, 100000);
    m_windows->setValue(8);
    m_windows->setSpecialValueText(tr("all"));
    m_windows->setToolTip(tr("Evaluation windows of the tiny-ts protocol (eval pool); 0: all"));
    m_kind->addItem(tr("Densities (top-k)"), static_cast<int>(sparse::MaskRule::Kind::Density));
    m_kind->addItem(tr("Thresholds"), static_cast<int>(sparse::MaskRule::Kind::Threshold));
    m_values->setObjectName(QStringLiteral("sweepValues"));
    m_values->setText(QStringLiteral("1.0, 0.5, 0.4, 0.3, 0.2, 0.1"));
    connect(m_kind, &QComboBox::currentIndexChanged, this, [this] {
        const bool density = m_kind->currentData().toInt() == static_cast<int>(sparse::MaskRule::Kind::Density);
        m_values->setText(
            density ? QStringLiteral("1.0, 0.5, 0.4, 0.3, 0.2, 0.1") : QStringLiteral("1e-4, 5e-4, 2e-3, 1e-2, 5e-2"));
    });
    m_static->setChecked(true);
    m_gatesLabel->setWordWrap(true);
    connect(m_controls->runButton(), &QPushButton::clicked, this, &SparsityPanel::run);
    connect(m_controls->cancelButton(), &QPushButton::clicked, this, &SparsityPanel::cancel);

    auto *form = new QFormLayout;
    form->addRow(tr("Text"), textRow);
    form->addRow(tr("Windows"), m_windows);
    form->addRow(tr("Rules"), m_kind);
    form->addRow(tr("Values"), m_values);
    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 4, 0);
    leftLayout->addLayout(form);
    leftLayout->addWidget(new QLabel(tr("<b>Masks</b>"), left));
    leftLayout->addWidget(m_gatesLabel);
    leftLayout->addWidget(m_static);
    leftLayout->addWidget(m_oracle);
    leftLayout->addWidget(m_random);
    leftLayout->addWidget(m_controls);
    leftLayout->addStretch(1);
    left->setMinimumWidth(260);
    left->setMaximumWidth(340);

    // Perplexity grows by factors as sparsity rises: a log axis keeps the dense end readable.
    auto *logScale = new QCheckBox(tr("Log scale"), this);
    logScale->setChecked(true);
    m_chart->setLogScale(true);
    connect(logScale, &QCheckBox::toggled, m_chart, &SparsityChart::setLogScale);
    auto *exportChart = new QPushButton(tr("Export chart\u2026"), this);
    exportChart->setToolTip(tr("PNG, SVG or PDF, with title, axes and legend"));
    connect(exportChart, &QPushButton::clicked, this, &SparsityPanel::exportChartDialog);
    auto *exportPoints = new QToolButton(this);
    exportPoints->setText(tr("Export points"));
    exportPoints->setPopupMode(QToolButton::InstantPopup);
    auto *menu = new QMenu(exportPoints);
    menu->addAction(tr("CSV\u2026"), this, [this] { exportPointsDialog(QStringLiteral("csv")); });
    menu->addAction(tr("JSON\u2026"), this, [this] { exportPointsDialog(QStringLiteral("json")); });
    exportPoints->setMenu(menu);
    auto *bar = new QHBoxLayout;
    bar->addWidget(logScale);
    bar->addStretch(1);
    bar->addWidget(exportChart);
    bar->addWidget(exportPoints);
    auto *right = new QVBoxLayout;
    right->addLayout(bar);
    right->addWidget(m_chart, 1);

    layOutPage(this, nullptr, left, right);

    connect(m_controls, &JobControls::stage, this,
        [this](const QString &stage) { m_controls->setStatus(tr("Running: %1").arg(stage)); });
    connect(m_controls, &JobControls::stopped, this, [this] { endSweep(QStringLiteral("cancelled"), QString()); });
    setGates(QString());
    updateButtons();
    m_controls->setStatus(tr("Choose the rules and press Run sweep."));
}

SparsityPanel::~SparsityPanel()
{
    // The chart's mappers watch the point models this panel owns.
    m_chart->clearSeries();
}

void SparsityPanel::setModel(const QString &path)
{
    m_modelPath = path;
    updateButtons();
}

void SparsityPanel::setGates(const QString &path)
{
    m_gatesPath = path;
    m_gatesLabel->setText(
        path.isEmpty() ? tr("No gates loaded: the baselines only") : tr("Gates: %1").arg(QFileInfo(path).fileName()));
    updateButtons();
}

void SparsityPanel::setDefaultText(const QString &path)
{
    if (m_text->text().isEmpty())
        m_text->setText(path);
}

void SparsityPanel::setTextPath(const QString &path)
{
    m_text->setText(path);
}

QString SparsityPanel::sourceName(sparse::MaskSource source)
{
    switch (source) {
    case sparse::MaskSource::Gates: return tr("gates");
    case sparse::MaskSource::Static: return tr("static (sink + window)");
    case sparse::MaskSource::Random: return tr("random");
    case sparse::MaskSource::Oracle: return tr("oracle (ground truth)");
    }
    return {};
}

std::vector<sparse::MaskRule> SparsityPanel::rules(QString *error) const
{
    std::vector<sparse::MaskRule> out;
    const auto kind = static_cast<sparse::MaskRule::Kind>(m_kind->currentData().toInt());
    for (const QString &part :
        m_values->text().split(QRegularExpression(QStringLiteral("[,;\\s]+")), Qt::SkipEmptyParts)) {
        bool ok = false;
        const double v = part.toDouble(&ok);
        const bool valid = ok && (kind == sparse::MaskRule::Kind::Density ? (v > 0 && v <= 1) : (v >= 0 && v < 1));
        if (!valid) {
            if (error)
                *error = kind == sparse::MaskRule::Kind::Density ? tr("'%1' is not a density in (0, 1]").arg(part)
                                                                 : tr("'%1' is not a threshold in [0, 1)").arg(part);
            return {};
        }
        sparse::MaskRule rule;
        rule.kind = kind;
        rule.value = v;
        out.push_back(rule);
    }
    if (out.empty() && error)
        *error = tr("No values to sweep");
    return out;
}

std::vector<sparse::MaskSource> SparsityPanel::sources() const
{
    std::vector<sparse::MaskSource> out;
    if (!m_gatesPath.isEmpty())
        out.push_back(sparse::MaskSource::Gates);
    // The static pattern and random masks have a density, not scores to threshold.
    const bool density = m_kind->currentData().toInt() == static_cast<int>(sparse::MaskRule::Kind::Density);
    if (m_static->isChecked() && density)
        out.push_back(sparse::MaskSource::Static);
    if (m_oracle->isChecked())
        out.push_back(sparse::MaskSource::Oracle);
    if (m_random->isChecked() && density)
        out.push_back(sparse::MaskSource::Random);
    return out;
}

SparsityPointModel *SparsityPanel::points(sparse::MaskSource source) const
{
    for (const Series &s : m_series)
        if (s.source == source)
            return s.points;
    return nullptr;
}

bool SparsityPanel::isRunning() const
{
    return m_controls->isRunning();
}

void SparsityPanel::updateButtons()
{
    m_controls->refresh(!m_modelPath.isEmpty());
}

QString SparsityPanel::statusText() const
{
    return m_controls->status();
}

void SparsityPanel::run()
{
    if (isRunning())
        return;
    QString error;
    const auto ruleList = rules(&error);
    const auto sourceList = sources();
    if (m_modelPath.isEmpty())
        error = tr("Open a model first");
    else if (!QFileInfo(m_text->text()).isFile())
        error = tr("Choose an evaluation text file");
    else if (error.isEmpty() && sourceList.empty())
        error = tr("Nothing to compare: load gates or tick a baseline");
    if (!error.isEmpty()) {
        m_controls->setStatus(error);
        return;
    }

    m_chart->clearSeries();
    m_chart->setDensePerplexity(std::nan(""));
    for (Series &s : m_series)
        delete s.points;
    m_series.clear();
    for (auto source : sourceList) {
        Series s;
        s.source = source;
        s.points = new SparsityPointModel(this);
        s.chartSeries = m_chart->addSeries(s.points, sourceName(source));
        m_series.push_back(s);
    }

    sparse::SparsitySweepJob base;
    base.modelPath = m_modelPath.toStdString();
    base.gatesPath = m_gatesPath.toStdString();
    base.textPath = m_text->text().toStdString();
    base.windows = m_windows->value();
    base.rules = ruleList;
    const auto onPoint = m_runner->partials<std::pair<int, sparse::SparseEvalResult>>(
        sweepTag, this, [this](const std::pair<int, sparse::SparseEvalResult> &p) { addPoint(p.first, p.second); });
    const JobId job = m_runner->start(
        sweepTag, tr("Sparsity sweep (%1 rules \u00d7 %2 masks)").arg(ruleList.size()).arg(sourceList.size()),
        [base, sourceList, onPoint](JobContext &job) {
            for (std::size_t i = 0; i < sourceList.size(); ++i) {
                sparse::SparsitySweepJob request = base;
                request.source = sourceList[i];
                const int series = static_cast<int>(i);
                request.onPoint = [onPoint, series](const sparse::SparseEvalResult &r) { onPoint({series, r}); };
                job.stage(sourceName(sourceList[i]).toStdString());
                sparse::runSparsitySweep(request, job);
            }
        },
        this, [this] { endSweep(QStringLiteral("complete"), QString()); },
        [this](const QString &message) { endSweep(QStringLiteral("failed"), message); }, Lane::Engine);
    m_controls->follow(job);
    m_controls->setStatus(tr("Sweeping %1 rules\u2026").arg(ruleList.size()));
    updateButtons();
}

void SparsityPanel::cancel()
{
    m_controls->cancel();
}

void SparsityPanel::addPoint(int series, const sparse::SparseEvalResult &result)
{
    if (series < 0 || series >= static_cast<int>(m_series.size()))
        return;
    Series &s = m_series[static_cast<std::size_t>(series)];
    s.points->appendResult(result);
    if (!std::isfinite(m_chart->densePerplexity()) && std::isfinite(result.densePerplexity))
        m_chart->setDensePerplexity(result.densePerplexity);
    m_controls->setStatus(tr("%1, %2: PPL %3 at sparsity %4")
                              .arg(sourceName(s.source), SparsityPointModel::ruleText(result.rule))
                              .arg(result.perplexity, 0, 'g', 5)
                              .arg(1.0 - result.mean.tileDensity, 0, 'f', 3));
    Q_EMIT pointShown(series, s.points->rowCount());
}

void SparsityPanel::endSweep(const QString &status, const QString &message)
{
    if (!m_controls->release())
        return;
    updateButtons();
    int points = 0;
    for (const Series &s : m_series)
        points += s.points->rowCount();
    if (status == QLatin1String("complete"))
        m_controls->setStatus(
            tr("Sweep complete: %1 points; dense PPL %2").arg(points).arg(m_chart->densePerplexity(), 0, 'g', 5));
    else if (status == QLatin1String("cancelled"))
        m_controls->setStatus(tr("Cancelled after %1 points").arg(points));
    else
        m_controls->setStatus(tr("The sweep failed: %1").arg(message));
    Q_EMIT sweepEnded(status);
}

void SparsityPanel::exportChartDialog()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Export Chart"), QStringLiteral("sparsity-sweep.png"),
        tr("PNG image (*.png);;SVG image (*.svg);;PDF document (*.pdf)"));
    if (path.isEmpty())
        return;
    QString error;
    m_controls->setStatus(m_chart->exportTo(path, &error) ? tr("Exported %1").arg(path) : error);
}

void SparsityPanel::exportPointsDialog(const QString &suffix)
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Export Points"),
        QStringLiteral("sparsity-sweep.") + suffix, tr("%1 files (*.%2)").arg(suffix.toUpper(), suffix));
    if (path.isEmpty())
        return;
    QString error;
    m_controls->setStatus(m_chart->exportPoints(path, &error) ? tr("Exported %1").arg(path) : error);
}

} // namespace blockscope::views
