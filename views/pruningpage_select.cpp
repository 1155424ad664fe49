// Which runs are selected and what that shows: one run's layer map (with the what-if overlay),
// or two runs' maps side by side with the table of what differs; their lines stand out on the chart.
#include "pruningpage.h"

#include "charts/tracechart.h"
#include "layermap.h"
#include "runcomparemodel.h"
#include "runlistmodel.h"
#include "tracetablemodel.h"
#include "whatifcontroller.h"

#include <QSplitter>
#include <QStackedWidget>
#include <QTableView>

#include <algorithm>

namespace blockscope::views {

QList<int> PruningPage::selectedRuns() const
{
    QList<int> rows;
    for (const QModelIndex &i : m_runTable->selectionModel()->selectedRows())
        rows << i.row();
    std::sort(rows.begin(), rows.end());
    return rows;
}

void PruningPage::selectRuns(const QList<int> &rows)
{
    QItemSelection selection;
    for (int r : rows)
        if (r >= 0 && r < m_runList->rowCount())
            selection.select(m_runList->index(r, 0), m_runList->index(r, RunListModel::ColumnCount - 1));
    m_runTable->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect);
    if (!rows.isEmpty())
        m_runTable->selectionModel()->setCurrentIndex(m_runList->index(rows.back(), 0), QItemSelectionModel::NoUpdate);
}

void PruningPage::setMapPage(int page)
{
    // A stacked widget asks for the size of its largest page; the hidden one is told to ask for
    // nothing, so the single map does not take the width of two.
    for (int i = 0; i < m_mapStack->count(); ++i) {
        const auto policy = i == page ? QSizePolicy::Preferred : QSizePolicy::Ignored;
        m_mapStack->widget(i)->setSizePolicy(policy, policy);
    }
    const bool changed = m_mapStack->currentIndex() != page;
    m_mapStack->setCurrentIndex(page);
    m_mapStack->updateGeometry();
    const QList<int> sizes = m_bottom ? m_bottom->sizes() : QList<int>();
    const int total = sizes.value(0) + sizes.value(1);
    if (!changed || total <= 0)
        return;
    // Two maps side by side take room from the run list, as much as it can spare; one map gives
    // it back.
    const int want = page == 1 ? std::min(total * 3 / 5, 2 * m_map->sizeHint().width())
                               : std::min(total / 2, m_map->sizeHint().width() + 24);
    m_bottom->setSizes({want, total - want});
}

bool PruningPage::isComparing() const
{
    return m_mapStack->currentIndex() == 1;
}

void PruningPage::updateSelectionView()
{
    const QList<int> rows = selectedRuns();
    QList<int> highlighted;
    for (int r : rows)
        highlighted << chartRun(r);
    m_chart->setHighlighted(rows.size() >= 2 ? highlighted.mid(0, 2) : highlighted);
    if (rows.size() >= 2) {
        showCompare(rows[0], rows[1]);
        m_stepTable->setModel(traceModel(rows[0]));
        return;
    }
    setMapPage(0);
    m_compareTable->hide();
    m_compare->clear();
    const int row = rows.isEmpty() ? -1 : rows.front();
    m_stepTable->setModel(row >= 0 ? traceModel(row) : nullptr);
    showLayerMapFor(row);
}

void PruningPage::showLayerMapFor(int row)
{
    LayerMapData data;
    if (row < 0 || row >= runCount()) {
        data = LayerMapData::dense(m_layers);
        data.title = m_layers > 0 ? tr("Dense model") : QString();
    } else {
        const PageRun &r = m_runs[static_cast<std::size_t>(row)];
        const auto &steps = r.trace->steps();
        const int layers = r.info.layers > 0 ? r.info.layers : m_layers;
        const QString name = m_runList->run(row).seriesName();
        if (r.live && !r.candidatesInFlight.empty()) {
            // The step in flight: the configuration so far, and the candidates scored until now.
            TraceStep partial;
            if (!steps.empty()) {
                partial.mask = steps.back().mask;
                partial.removedSoFar = steps.back().removedSoFar;
            }
            partial.candidates = r.candidatesInFlight;
            data = LayerMapData::fromStep(partial, layers);
            data.title = tr("%1 \u00b7 step %2 in progress, %3 scored")
                             .arg(name)
                             .arg(r.stepInFlight + 1)
                             .arg(r.candidatesInFlight.size());
        } else {
            data = steps.empty() ? LayerMapData::dense(layers) : LayerMapData::fromStep(steps.back(), layers);
            data.title = steps.empty() ? name : tr("%1 \u00b7 after step %2").arg(name).arg(steps.back().index + 1);
        }
        data.scoreLabel = LayerMapData::scoreLabelFor(r.info.options);
    }
    m_map->setData(std::move(data));
    m_map->setWhatIfMask(m_whatIf->mask());
}

void PruningPage::showCompare(int a, int b)
{
    const ExperimentRun ra = runSnapshot(a), rb = runSnapshot(b);
    m_compare->setRuns(ra, rb);
    m_compareTable->show();
    m_compareTable->resizeRowsToContents();
    auto mapFor = [this](int row, const ExperimentRun &run) {
        const int layers = run.info.layers > 0 ? run.info.layers : m_layers;
        LayerMapData d
            = run.steps.empty() ? LayerMapData::dense(layers) : LayerMapData::fromStep(run.steps.back(), layers);
        d.scoreLabel = LayerMapData::scoreLabelFor(run.info.options);
        d.title = m_runList->run(row).seriesName();
        return d;
    };
    m_compareA->setData(mapFor(a, ra));
    m_compareB->setData(mapFor(b, rb));
    setMapPage(1);
}

} // namespace blockscope::views
