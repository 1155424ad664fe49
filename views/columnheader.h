#pragma once

// The horizontal header of a table model from its column names and tooltips.

#include <QAbstractItemModel>
#include <QCoreApplication>
#include <QVariant>

namespace blockscope::views {

// Names and tooltips (one per column, in column order) translated in the model's context; vertical
// headers and sections out of range are the base class's, other roles have nothing.
template<std::size_t N>
QVariant columnHeader(const QAbstractItemModel &model, const char *const (&names)[N], const char *const (&tips)[N],
    int section, Qt::Orientation orientation, int role)
{
    if (orientation != Qt::Horizontal || section < 0 || section >= static_cast<int>(N))
        return model.QAbstractItemModel::headerData(section, orientation, role);
    const char *context = model.metaObject()->className();
    if (role == Qt::DisplayRole)
        return QCoreApplication::translate(context, names[section]);
    if (role == Qt::ToolTipRole)
        return QCoreApplication::translate(context, tips[section]);
    return {};
}

} // namespace blockscope::views
