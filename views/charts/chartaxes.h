#pragma once

#include <QList>
#include <QString>
#include <QTimer>
#include <Qt>

#include <utility>

QT_BEGIN_NAMESPACE
class QAbstractAxis;
class QAbstractSeries;
class QChart;
class QLogValueAxis;
class QObject;
class QValueAxis;
QT_END_NAMESPACE

namespace blockscope::views {

// The chart's first axis along `orientation`, or null before any is attached.
QAbstractAxis *firstAxis(const QChart *chart, Qt::Orientation orientation);
// A line chart's x value axis and its y axis (value or log); both null until they are attached.
std::pair<QValueAxis *, QAbstractAxis *> lineAxes(const QChart *chart);
// That axis's title, empty when there is none.
QString axisTitle(const QChart *chart, Qt::Orientation orientation);
// Takes every axis off the chart and deletes it.
void removeAxes(QChart *chart);
// Adds x at the bottom and y on the left and attaches each series to both.
void addAxes(QChart *chart, QAbstractAxis *x, QAbstractAxis *y, const QList<QAbstractSeries *> &series);
// A value axis, logarithmic (minor ticks left to Qt) or linear, with labels in `labelFormat`
// and, unless `title` is null, that title.
QAbstractAxis *makeValueAxis(QObject *parent, const QString &title, const QString &labelFormat, bool log);
// Fits a log axis to [yMin, yMax] with `margin` (a factor) either side, or to [emptyMin, emptyMax]
// when there is no positive range. Labels sit at powers of the base: 10 over a wide range, 2 over
// a narrower one; integer bases only, as Qt Charts 6.4 computes NaN marker geometry with a
// fractional one.
void fitLogAxis(QLogValueAxis *axis, double yMin, double yMax, double margin, double emptyMin, double emptyMax);

// Fits a linear axis to [low, high] (to [0, 1] when that is empty) with `pad` of the span either
// side (a tenth of the value, at least 0.1, when the span is 0), at round numbers; `clampAtZero`
// keeps the round numbers from taking a positive quantity below 0.
void fitValueAxis(QValueAxis *axis, double low, double high, double pad, bool clampAtZero);
// Calls `slot` on `receiver` when the event loop next turns, once however often this is asked
// before then: `*pending` says a call is queued, and the slot clears it.
template<typename T>
void scheduleOnce(bool *pending, T *receiver, void (T::*slot)())
{
    if (*pending)
        return;
    *pending = true;
    QTimer::singleShot(0, receiver, slot);
}

} // namespace blockscope::views
