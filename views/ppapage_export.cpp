// The PPA page's files: the PPA chart and the block-shares chart as PNG/SVG/PDF, their data as
// CSV/JSON, every figure named measured or modelled.
#include "ppapage.h"

#include "blocksharemodel.h"
#include "charts/blockshareschart.h"
#include "charts/ppachart.h"
#include "messagebanner.h"
#include "ppaexport.h"
#include "ppapointmodel.h"
#include "pparunlistmodel.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QJsonObject>
#include <QMenu>

namespace blockscope::views {

QMenu *PpaPage::createExportMenu()
{
    auto *menu = new QMenu(this);
    menu->addAction(tr("PPA chart as image (PNG, SVG, PDF)\u2026"), this, [this] { exportChartDialog(false); });
    menu->addAction(tr("PPA points as data (CSV, JSON)\u2026"), this, [this] { exportDataDialog(false); });
    menu->addSeparator();
    menu->addAction(tr("Block shares as image (PNG, SVG, PDF)\u2026"), this, [this] { exportChartDialog(true); });
    menu->addAction(tr("Block shares as data (CSV, JSON)\u2026"), this, [this] { exportDataDialog(true); });
    return menu;
}

bool PpaPage::exportChart(const QString &path, QString *error)
{
    return m_chart->exportTo(path, error);
}

bool PpaPage::exportBlockChart(const QString &path, QString *error)
{
    return m_blocks->exportTo(path, error);
}

bool PpaPage::exportPoints(const QString &path, QString *error) const
{
    std::vector<PpaExportRun> runs;
    for (int i = 0; i < runCount(); ++i) {
        const Source &s = m_sources[static_cast<std::size_t>(i)];
        if (s.chartRun >= 0)
            runs.push_back({s.id, s.name, s.points});
    }
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("csv"))
        return writeExportFile(path, ppaPointsCsv(runs), error);
    if (suffix == QLatin1String("json")) {
        const QJsonObject context{{"experiment", m_path}, {"quality", m_quality->currentText()},
            {"axis", m_axis->currentText()}, {"modelled_on", m_device->currentText()}};
        return writeExportFile(path, ppaPointsJson(runs, context), error);
    }
    if (error)
        *error = tr("%1: use .csv or .json").arg(path);
    return false;
}

bool PpaPage::exportBlockShares(const QString &path, QString *error) const
{
    return m_blocks->exportData(path, error);
}

void PpaPage::exportDialog(const QString &title, const QString &suffix, const QString &filter,
    const std::function<bool(const QString &, QString *)> &write)
{
    const QString base = QFileInfo(m_path).completeBaseName();
    const QString suggested = QFileInfo(m_path).dir().filePath(base + suffix);
    const QString path = QFileDialog::getSaveFileName(this, title, suggested, filter);
    if (path.isEmpty())
        return;
    QString error;
    if (!write(path, &error))
        m_banner->showMessage(MessageBanner::Kind::Error, error);
    else
        setStatus(tr("Saved %1").arg(QFileInfo(path).fileName()));
}

void PpaPage::exportChartDialog(bool blocks)
{
    exportDialog(blocks ? tr("Export block shares") : tr("Export PPA chart"),
        blocks ? QStringLiteral("-blocks.png") : QStringLiteral("-ppa.png"),
        tr("PNG image (*.png);;SVG image (*.svg);;PDF document (*.pdf)"),
        [this, blocks](const QString &path, QString *error) {
            return blocks ? exportBlockChart(path, error) : exportChart(path, error);
        });
}

void PpaPage::exportDataDialog(bool blocks)
{
    exportDialog(blocks ? tr("Export block shares") : tr("Export PPA points"),
        blocks ? QStringLiteral("-blocks.csv") : QStringLiteral("-ppa.csv"), tr("CSV (*.csv);;JSON (*.json)"),
        [this, blocks](const QString &path, QString *error) {
            return blocks ? exportBlockShares(path, error) : exportPoints(path, error);
        });
}

} // namespace blockscope::views
