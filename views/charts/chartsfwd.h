#pragma once

// The Qt Charts classes the chart widgets' headers name; their sources include the real ones.

#include <QtGlobal>

QT_BEGIN_NAMESPACE
class QAbstractSeries;
class QBarCategoryAxis;
class QBarSet;
class QChart;
class QChartView;
class QHorizontalStackedBarSeries;
class QLineSeries;
class QScatterSeries;
class QSortFilterProxyModel;
class QValueAxis;
class QVBarModelMapper;
class QVXYModelMapper;
QT_END_NAMESPACE
