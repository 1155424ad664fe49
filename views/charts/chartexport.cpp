#include "chartexport.h"

#include <QChart>
#include <QChartView>
#include <QCoreApplication>
#include <QFileInfo>
#include <QGraphicsLayout>
#include <QGraphicsScene>
#include <QImage>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSvgGenerator>

#include <QAbstractAxis>
#include <QAbstractBarSeries>
#include <QBarSet>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLegend>
#include <QSettings>
#include <QXYSeries>

#include <functional>
#include <optional>
#include <vector>

namespace blockscope::views {

namespace {
std::optional<ChartExportOptions> &currentOptions()
{
    static std::optional<ChartExportOptions> options;
    return options;
}

// Applies the options' theme and font scale to a chart for one export and puts everything back
// afterwards: the chart on screen never changes.
class StyleOverride
{
public:
    StyleOverride(QChart *chart, const ChartExportOptions &o)
    {
        if (o.fontScale != 1.0)
            scaleFonts(chart, o.fontScale);
        if (o.theme == ChartExportOptions::Theme::Dark || o.theme == ChartExportOptions::Theme::Light)
            colours(chart, o.theme == ChartExportOptions::Theme::Dark);
        else if (o.theme == ChartExportOptions::Theme::Greyscale)
            greys(chart);
    }
    ~StyleOverride()
    {
        for (auto it = m_undo.rbegin(); it != m_undo.rend(); ++it)
            (*it)();
    }
    StyleOverride(const StyleOverride &) = delete;
    StyleOverride &operator=(const StyleOverride &) = delete;

private:
    template<typename Get, typename Set, typename Value>
    void set(Get get, Set put, const Value &v)
    {
        auto old = get();
        m_undo.push_back([put, old] { put(old); });
        put(v);
    }

    void scaleFonts(QChart *chart, double k)
    {
        const auto scaled = [k](QFont f) {
            f.setPointSizeF(f.pointSizeF() * k);
            return f;
        };
        set([chart] { return chart->titleFont(); }, [chart](const QFont &f) { chart->setTitleFont(f); },
            scaled(chart->titleFont()));
        QLegend *legend = chart->legend();
        set([legend] { return legend->font(); }, [legend](const QFont &f) { legend->setFont(f); },
            scaled(legend->font()));
        for (QAbstractAxis *a : chart->axes()) {
            set([a] { return a->labelsFont(); }, [a](const QFont &f) { a->setLabelsFont(f); }, scaled(a->labelsFont()));
            set([a] { return a->titleFont(); }, [a](const QFont &f) { a->setTitleFont(f); }, scaled(a->titleFont()));
        }
    }

    void colours(QChart *chart, bool dark)
    {
        const QColor background = dark ? QColor(0x1e, 0x1e, 0x1e) : QColor(Qt::white);
        const QColor text = dark ? QColor(0xee, 0xee, 0xee) : QColor(0x22, 0x22, 0x22);
        const QColor grid = dark ? QColor(0x44, 0x44, 0x44) : QColor(0xdd, 0xdd, 0xdd);
        set([chart] { return chart->backgroundBrush(); }, [chart](const QBrush &b) { chart->setBackgroundBrush(b); },
            QBrush(background));
        set([chart] { return chart->titleBrush(); }, [chart](const QBrush &b) { chart->setTitleBrush(b); },
            QBrush(text));
        QLegend *legend = chart->legend();
        set([legend] { return legend->labelColor(); }, [legend](const QColor &c) { legend->setLabelColor(c); }, text);
        for (QAbstractAxis *a : chart->axes()) {
            set([a] { return a->labelsBrush(); }, [a](const QBrush &b) { a->setLabelsBrush(b); }, QBrush(text));
            set([a] { return a->titleBrush(); }, [a](const QBrush &b) { a->setTitleBrush(b); }, QBrush(text));
            set([a] { return a->gridLinePen(); }, [a](const QPen &p) { a->setGridLinePen(p); }, QPen(grid));
            set([a] { return a->linePen(); }, [a](const QPen &p) { a->setLinePen(p); }, QPen(text));
        }
    }

    // Print: white, black text, every series a grey with a dash pattern of its own.
    void greys(QChart *chart)
    {
        colours(chart, false);
        static const Qt::PenStyle dashes[]
            = {Qt::SolidLine, Qt::DashLine, Qt::DotLine, Qt::DashDotLine, Qt::DashDotDotLine};
        int i = 0;
        for (QAbstractSeries *series : chart->series()) {
            const int shade = 40 + (i * 50) % 160;
            const QColor grey(shade, shade, shade);
            if (auto *xy = qobject_cast<QXYSeries *>(series)) {
                QPen pen = xy->pen();
                pen.setColor(grey);
                pen.setStyle(dashes[i % 5]);
                set([xy] { return xy->pen(); }, [xy](const QPen &p) { xy->setPen(p); }, pen);
                set([xy] { return xy->brush(); }, [xy](const QBrush &b) { xy->setBrush(b); }, QBrush(grey));
                set([xy] { return xy->color(); }, [xy](const QColor &c) { xy->setColor(c); }, grey);
            } else if (auto *bars = qobject_cast<QAbstractBarSeries *>(series)) {
                int j = 0;
                for (QBarSet *set_ : bars->barSets()) {
                    const int g = 70 + (j++ * 60) % 150;
                    const QColor c(g, g, g);
                    set([set_] { return set_->brush(); }, [set_](const QBrush &b) { set_->setBrush(b); },
                        QBrush(c, set_->brush().style() == Qt::NoBrush ? Qt::SolidPattern : set_->brush().style()));
                    set([set_] { return set_->labelColor(); }, [set_](const QColor &l) { set_->setLabelColor(l); },
                        QColor(Qt::black));
                }
            }
            ++i;
        }
    }

    std::vector<std::function<void()>> m_undo;
};

void renderChart(QChart *chart, QPainter *painter, const QRectF &target, const QSize &size)
{
    const QRectF shown = chart->geometry();
    const bool relayout = shown.size().toSize() != size;
    if (relayout) {
        chart->resize(size);
        if (chart->layout())
            chart->layout()->activate();
    }
    QCoreApplication::sendPostedEvents(chart); // pending layout requests of the chart items
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setRenderHint(QPainter::TextAntialiasing);
    chart->scene()->render(painter, target, QRectF(chart->pos(), QSizeF(size)));
    if (relayout) {
        chart->resize(shown.size());
        if (chart->layout())
            chart->layout()->activate();
    }
}
} // namespace

QSize ChartExportOptions::pixelSize(const QSize &shown) const
{
    if (!(width > 0) || !(height > 0))
        return shown;
    const double k = centimetres ? 96.0 / 2.54 : 1.0;
    return QSize(qMax(1, qRound(width * k)), qMax(1, qRound(height * k)));
}

ChartExportOptions chartExportOptions()
{
    auto &current = currentOptions();
    if (!current) {
        const QSettings settings;
        ChartExportOptions o;
        o.width = settings.value(QStringLiteral("chartExport/width"), 0.0).toDouble();
        o.height = settings.value(QStringLiteral("chartExport/height"), 0.0).toDouble();
        o.centimetres = settings.value(QStringLiteral("chartExport/cm"), false).toBool();
        o.dpi = qBound(36.0, settings.value(QStringLiteral("chartExport/dpi"), 192.0).toDouble(), 1200.0);
        o.fontScale = qBound(0.25, settings.value(QStringLiteral("chartExport/fontScale"), 1.0).toDouble(), 4.0);
        o.theme = static_cast<ChartExportOptions::Theme>(
            qBound(0, settings.value(QStringLiteral("chartExport/theme"), 0).toInt(), 3));
        current = o;
    }
    return *current;
}

void setChartExportOptions(const ChartExportOptions &options)
{
    currentOptions() = options;
}

bool chartExportOptionsDialog(QWidget *parent)
{
    ChartExportOptions o = chartExportOptions();
    QDialog dialog(parent);
    dialog.setWindowTitle(QCoreApplication::translate("ChartExport", "Chart Export Options"));
    auto *form = new QFormLayout(&dialog);
    const auto spin = [&](double value, double lo, double hi, int decimals, const QString &special) {
        auto *box = new QDoubleSpinBox(&dialog);
        box->setRange(lo, hi);
        box->setDecimals(decimals);
        box->setValue(value);
        box->setSpecialValueText(special);
        return box;
    };
    const QString onScreen = QCoreApplication::translate("ChartExport", "as on screen");
    auto *width = spin(o.width, 0, 10000, 1, onScreen);
    auto *height = spin(o.height, 0, 10000, 1, onScreen);
    auto *unit = new QComboBox(&dialog);
    unit->addItems({QStringLiteral("px"), QStringLiteral("cm")});
    unit->setCurrentIndex(o.centimetres ? 1 : 0);
    auto *dpi = spin(o.dpi, 36, 1200, 0, {});
    auto *font = spin(o.fontScale, 0.25, 4, 2, {});
    auto *theme = new QComboBox(&dialog);
    theme->addItems({QCoreApplication::translate("ChartExport", "as shown"),
        QCoreApplication::translate("ChartExport", "light (papers)"),
        QCoreApplication::translate("ChartExport", "dark (slides)"),
        QCoreApplication::translate("ChartExport", "greyscale (print)")});
    theme->setCurrentIndex(static_cast<int>(o.theme));
    form->addRow(QCoreApplication::translate("ChartExport", "Width"), width);
    form->addRow(QCoreApplication::translate("ChartExport", "Height"), height);
    form->addRow(QCoreApplication::translate("ChartExport", "Unit"), unit);
    form->addRow(QCoreApplication::translate("ChartExport", "PNG resolution (DPI)"), dpi);
    form->addRow(QCoreApplication::translate("ChartExport", "Font scale"), font);
    form->addRow(QCoreApplication::translate("ChartExport", "Theme"), theme);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    QObject::connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    form->addRow(buttons);
    if (dialog.exec() != QDialog::Accepted)
        return false;
    o.width = width->value();
    o.height = height->value();
    o.centimetres = unit->currentIndex() == 1;
    o.dpi = dpi->value();
    o.fontScale = font->value();
    o.theme = static_cast<ChartExportOptions::Theme>(theme->currentIndex());
    setChartExportOptions(o);
    QSettings settings;
    settings.setValue(QStringLiteral("chartExport/width"), o.width);
    settings.setValue(QStringLiteral("chartExport/height"), o.height);
    settings.setValue(QStringLiteral("chartExport/cm"), o.centimetres);
    settings.setValue(QStringLiteral("chartExport/dpi"), o.dpi);
    settings.setValue(QStringLiteral("chartExport/fontScale"), o.fontScale);
    settings.setValue(QStringLiteral("chartExport/theme"), static_cast<int>(o.theme));
    return true;
}

QSize chartExportSize(const QChartView *view)
{
    const QSize s = view && view->isVisible() ? view->size() : QSize();
    return s.width() >= 400 && s.height() >= 250 ? s : QSize(960, 600);
}

bool chartFileFormat(const QString &path, ChartFileFormat *format)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("png"))
        *format = ChartFileFormat::Png;
    else if (suffix == QLatin1String("svg"))
        *format = ChartFileFormat::Svg;
    else if (suffix == QLatin1String("pdf"))
        *format = ChartFileFormat::Pdf;
    else
        return false;
    return true;
}

bool exportChartFile(QChart *chart, const QSize &size, const QString &path, const QString &description, QString *error)
{
    ChartFileFormat format;
    if (!chartFileFormat(path, &format)) {
        if (error)
            *error = QCoreApplication::translate("ChartExport", "%1: use .png, .svg or .pdf").arg(path);
        return false;
    }
    return exportChartFile(chart, size, path, format, description, error);
}

bool exportChartFile(QChart *chart, const QSize &shownSize, const QString &path, ChartFileFormat format,
    const QString &description, QString *error)
{
    auto fail = [&](const QString &message) {
        if (error)
            *error = message;
        return false;
    };
    const ChartExportOptions options = chartExportOptions();
    const QSize size = options.pixelSize(shownSize);
    const StyleOverride style(chart, options);
    const QRectF target(QPointF(0, 0), QSizeF(size));
    switch (format) {
    case ChartFileFormat::Png: {
        const double ratio = options.dpi / 96.0;
        QImage image(
            QSize(qRound(size.width() * ratio), qRound(size.height() * ratio)), QImage::Format_ARGB32_Premultiplied);
        image.setDevicePixelRatio(ratio);
        image.setDotsPerMeterX(qRound(options.dpi / 0.0254));
        image.setDotsPerMeterY(qRound(options.dpi / 0.0254));
        image.fill(options.theme == ChartExportOptions::Theme::Dark ? QColor(0x1e, 0x1e, 0x1e) : QColor(Qt::white));
        {
            QPainter painter(&image);
            renderChart(chart, &painter, target, size);
        }
        if (!image.save(path, "PNG"))
            return fail(QCoreApplication::translate("ChartExport", "Could not write %1").arg(path));
        return true;
    }
    case ChartFileFormat::Svg: {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(size);
        svg.setViewBox(QRect(QPoint(0, 0), size));
        svg.setTitle(chart->title());
        svg.setDescription(description);
        QPainter painter;
        if (!painter.begin(&svg))
            return fail(QCoreApplication::translate("ChartExport", "Could not write %1").arg(path));
        renderChart(chart, &painter, target, size);
        painter.end();
        break;
    }
    case ChartFileFormat::Pdf: {
        QPdfWriter pdf(path);
        pdf.setCreator(QStringLiteral("Blockscope"));
        pdf.setTitle(chart->title());
        // One page the chart's size: 96 px per inch, so the page is the on-screen size in inches.
        pdf.setResolution(96);
        pdf.setPageSize(QPageSize(QSizeF(size) * 72.0 / 96.0, QPageSize::Point, QString(), QPageSize::ExactMatch));
        pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
        QPainter painter;
        if (!painter.begin(&pdf))
            return fail(QCoreApplication::translate("ChartExport", "Could not write %1").arg(path));
        renderChart(chart, &painter, QRectF(0, 0, pdf.width(), pdf.height()), size);
        painter.end();
        break;
    }
    }
    const QFileInfo written(path);
    if (!written.exists() || written.size() == 0)
        return fail(QCoreApplication::translate("ChartExport", "Could not write %1").arg(path));
    return true;
}

} // namespace blockscope::views
