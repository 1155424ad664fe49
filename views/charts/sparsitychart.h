#pragma once

#include "chartwidget.h"

#include <QString>

#include <vector>

namespace blockscope::views {

class SparsityPointModel;

// Perplexity against realised sparsity (1 - tile density), one line per sweep (gates, static
// baseline, ...), each fed from its SparsityPointModel through a QVXYModelMapper so points appear
// as the sweep evaluates them, and the dense model's perplexity as a dashed horizontal line.
// Qt Charts stays behind this QWidget.
class SparsityChart : public ChartWidget
{
    Q_OBJECT
public:
    explicit SparsityChart(QWidget *parent = nullptr);
    ~SparsityChart() override;

    // Adds a line for `points` (which must outlive it or be removed first); returns its number.
    int addSeries(SparsityPointModel *points, const QString &name);
    void clearSeries();
    int seriesCount() const { return static_cast<int>(m_series.size()); }
    int pointCount(int series) const;
    QString seriesName(int series) const;

    // NaN hides the line.
    void setDensePerplexity(double perplexity);
    double densePerplexity() const { return m_dense; }
    bool hasDenseLine() const;
    // The dense line's two ends (it spans the x axis).
    std::vector<QPointF> denseLinePoints() const;

    bool yAxisIsLogarithmic() const;

    // PNG, SVG or PDF by the suffix (title, axes and legend).
    bool exportTo(const QString &path, QString *error = nullptr);
    // Every series' points: CSV (one row per point with the series name) or JSON (an object per
    // series) by the suffix.
    bool exportPoints(const QString &path, QString *error = nullptr) const;

private:
    struct Series
    {
        SparsityPointModel *points = nullptr;
        QLineSeries *line = nullptr;
        QVXYModelMapper *mapper = nullptr;
        QString name;
    };
    void attachAxes() override;
    void rescale() override;

    QLineSeries *m_denseLine;
    std::vector<Series> m_series;
    double m_dense;
};

} // namespace blockscope::views
