// Attention maps to files: the figure of a view (title, subtitle, axes, colour bar, mask key) as
// PNG, SVG or PDF through the render library the CLI uses too, or its matrix as CSV.
#include "attentionpage.h"

#include "heatmapview.h"
#include "messagebanner.h"
#include "render/gridcsv.h"
#include "render/heatmapfigure.h"

#include <QFileDialog>
#include <QFileInfo>

namespace blockscope::views {

namespace {
QString viewSlug(AttentionPage::View view)
{
    switch (view) {
    case AttentionPage::View::Truth: return QStringLiteral("truth");
    case AttentionPage::View::Gate: return QStringLiteral("gate");
    case AttentionPage::View::Mask: return QStringLiteral("mask");
    case AttentionPage::View::Tokens: return QStringLiteral("tokens");
    }
    return {};
}
} // namespace

bool AttentionPage::exportView(View which, const QString &path, QString *error) const
{
    const HeatmapView *v = view(which);
    if (!v || !v->hasData()) {
        if (error)
            *error = tr("Nothing to export: the %1 map is empty").arg(viewSlug(which));
        return false;
    }
    const render::HeatmapFigure &figure = v->figure();
    if (QFileInfo(path).suffix().compare(QLatin1String("csv"), Qt::CaseInsensitive) == 0)
        return render::writeGridCsv(figure.grid, path, error, figure.causal, figure.labels);
    return render::saveHeatmap(figure, path, error);
}

void AttentionPage::exportDialog(View which)
{
    const QString name = QStringLiteral("attention-layer%1-%2-%3.png")
                             .arg(layer())
                             .arg(head() >= 0 ? QStringLiteral("head%1").arg(head()) : QStringLiteral("mean"))
                             .arg(viewSlug(which));
    QString filter;
    const QString path = QFileDialog::getSaveFileName(this, tr("Export Map"), name,
        tr("PNG image (*.png);;SVG image (*.svg);;PDF document (*.pdf);;Matrix as CSV (*.csv)"), &filter);
    if (path.isEmpty())
        return;
    QString file = path;
    if (QFileInfo(file).suffix().isEmpty()) {
        // The filter's suffix when none was typed.
        const int open = filter.indexOf(QLatin1String("*."));
        file += filter.mid(open + 1, filter.indexOf(QLatin1Char(')'), open) - open - 1);
    }
    QString error;
    if (exportView(which, file, &error))
        setStatus(tr("Exported %1").arg(file));
    else
        m_banner->showMessage(MessageBanner::Kind::Error, error);
}

} // namespace blockscope::views
