#include "chartaxes.h"

#include <QAbstractSeries>
#include <QChart>
#include <QLogValueAxis>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace blockscope::views {

QAbstractAxis *firstAxis(const QChart *chart, Qt::Orientation orientation)
{
    const auto axes = chart->axes(orientation);
    return axes.isEmpty() ? nullptr : axes.front();
}

std::pair<QValueAxis *, QAbstractAxis *> lineAxes(const QChart *chart)
{
    QAbstractAxis *x = firstAxis(chart, Qt::Horizontal), *y = firstAxis(chart, Qt::Vertical);
    if (!x || !y)
        return {nullptr, nullptr};
    return {static_cast<QValueAxis *>(x), y};
}

QString axisTitle(const QChart *chart, Qt::Orientation orientation)
{
    const QAbstractAxis *axis = firstAxis(chart, orientation);
    return axis ? axis->titleText() : QString();
}

void removeAxes(QChart *chart)
{
    for (QAbstractAxis *axis : chart->axes()) {
        chart->removeAxis(axis);
        delete axis;
    }
}

void addAxes(QChart *chart, QAbstractAxis *x, QAbstractAxis *y, const QList<QAbstractSeries *> &series)
{
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    for (QAbstractSeries *s : series) {
        s->attachAxis(x);
        s->attachAxis(y);
    }
}

QAbstractAxis *makeValueAxis(QObject *parent, const QString &title, const QString &labelFormat, bool log)
{
    QAbstractAxis *axis;
    if (log) {
        auto *logAxis = new QLogValueAxis(parent);
        logAxis->setLabelFormat(labelFormat);
        logAxis->setMinorTickCount(-1);
        axis = logAxis;
    } else {
        auto *linear = new QValueAxis(parent);
        linear->setLabelFormat(labelFormat);
        axis = linear;
    }
    if (!title.isNull())
        axis->setTitleText(title);
    return axis;
}

void fitLogAxis(QLogValueAxis *axis, double yMin, double yMax, double margin, double emptyMin, double emptyMax)
{
    if (!(yMin > 0)) {
        yMin = emptyMin;
        yMax = emptyMax;
    }
    const double low = yMin / margin, high = yMax * margin;
    axis->setRange(low, high);
    axis->setBase(high / low >= 1000 ? 10 : 2);
}

void fitValueAxis(QValueAxis *axis, double low, double high, double pad, bool clampAtZero)
{
    if (!(low <= high)) {
        low = 0;
        high = 1;
    }
    const double margin = high > low ? pad * (high - low) : std::max(std::abs(high) * 0.1, 0.1);
    axis->setRange(low - margin, high + margin);
    axis->applyNiceNumbers();
    if (clampAtZero && axis->min() < 0)
        axis->setMin(0);
}

} // namespace blockscope::views
