#include "modeltreemodel.h"

#include "format.h"
#include "model/modelhandle.h"
#include "statsaggregate.h"

#include <QColor>
#include <QFont>
#include <QStringList>

namespace blockscope::views {

ModelTreeModel::ModelTreeModel(QObject *parent)
    : QAbstractItemModel(parent)
{
}

ModelTreeModel::~ModelTreeModel() = default;

void ModelTreeModel::setModel(std::shared_ptr<const ModelHandle> model)
{
    beginResetModel();
    m_model = std::move(model);
    m_tree = m_model ? ModelTree::build(*m_model) : ModelTree();
    m_stats.clear();
    recombine();
    endResetModel();
}

void ModelTreeModel::setStats(std::map<std::string, TensorStats> stats)
{
    m_stats = std::move(stats);
    recombine();
    if (!m_tree.nodes.empty())
        emitStatsChanged(0);
}

void ModelTreeModel::recombine()
{
    m_nodeStats.assign(m_tree.nodes.size(), std::nullopt);
    if (!m_model)
        return;
    const auto &tensors = m_model->tensors();
    for (std::size_t id = 0; id < m_tree.nodes.size(); ++id) {
        const auto &n = m_tree.nodes[id];
        std::vector<const TensorStats *> parts;
        parts.reserve(n.tensors.size());
        for (int t : n.tensors) {
            auto it = m_stats.find(tensors[static_cast<std::size_t>(t)].name);
            parts.push_back(it == m_stats.end() ? nullptr : &it->second);
        }
        if (n.kind == ModelTree::Kind::Tensor) {
            if (parts.size() == 1 && parts.front())
                m_nodeStats[id] = *parts.front();
        } else {
            m_nodeStats[id] = combineStats(parts);
        }
    }
}

void ModelTreeModel::emitStatsChanged(int id)
{
    const auto &n = m_tree.nodes[static_cast<std::size_t>(id)];
    if (n.children.empty())
        return;
    Q_EMIT dataChanged(indexOfNode(n.children.front(), Min), indexOfNode(n.children.back(), NanInf));
    for (int child : n.children)
        emitStatsChanged(child);
}

int ModelTreeModel::nodeId(const QModelIndex &index) const
{
    return index.isValid() ? static_cast<int>(index.internalId()) : 0;
}

QModelIndex ModelTreeModel::indexOfNode(int id, int column) const
{
    if (id <= 0)
        return {};
    return createIndex(m_tree.nodes[static_cast<std::size_t>(id)].row, column, static_cast<quintptr>(id));
}

const ModelTree::Node *ModelTreeModel::node(const QModelIndex &index) const
{
    if (m_tree.nodes.empty())
        return nullptr;
    return &m_tree.nodes[static_cast<std::size_t>(nodeId(index))];
}

const TensorInfo *ModelTreeModel::tensor(const QModelIndex &index) const
{
    const auto *n = node(index);
    if (!n || n->kind != ModelTree::Kind::Tensor)
        return nullptr;
    return &m_model->tensors()[static_cast<std::size_t>(n->tensorIndex)];
}

const TensorStats *ModelTreeModel::statsFor(const QModelIndex &index) const
{
    if (m_nodeStats.empty())
        return nullptr;
    const auto &s = m_nodeStats[static_cast<std::size_t>(nodeId(index))];
    return s ? &*s : nullptr;
}

QModelIndex ModelTreeModel::indexForTensor(const QString &name) const
{
    for (std::size_t id = 1; id < m_tree.nodes.size(); ++id)
        if (m_tree.nodes[id].kind == ModelTree::Kind::Tensor && m_tree.nodes[id].name == name)
            return indexOfNode(static_cast<int>(id));
    return {};
}

QModelIndex ModelTreeModel::indexForGroup(const QStringList &path) const
{
    if (m_tree.nodes.empty())
        return {};
    int id = 0;
    for (const QString &part : path) {
        int next = -1;
        for (int child : m_tree.nodes[static_cast<std::size_t>(id)].children)
            if (m_tree.nodes[static_cast<std::size_t>(child)].name == part)
                next = child;
        if (next < 0)
            return {};
        id = next;
    }
    return indexOfNode(id);
}

std::optional<Unit> ModelTreeModel::unitAt(const QModelIndex &index) const
{
    const auto *n = index.isValid() ? node(index) : nullptr;
    if (!n || n->kind != ModelTree::Kind::Group)
        return std::nullopt;
    // Block groups are named "Block <i>" by ModelTree::build, their sublayers "Attention" / "MLP".
    auto blockOf = [](const ModelTree::Node &b) -> std::optional<int> {
        static const QString prefix = QStringLiteral("Block ");
        bool ok = false;
        const int layer = b.name.startsWith(prefix) ? b.name.mid(prefix.size()).toInt(&ok) : -1;
        return ok && b.parent == 0 ? std::optional<int>(layer) : std::nullopt;
    };
    if (auto layer = blockOf(*n))
        return Unit{UnitKind::Block, *layer};
    if (n->parent <= 0)
        return std::nullopt;
    const auto layer = blockOf(m_tree.nodes[static_cast<std::size_t>(n->parent)]);
    if (!layer)
        return std::nullopt;
    if (n->name == QLatin1String("Attention"))
        return Unit{UnitKind::Attention, *layer};
    if (n->name == QLatin1String("MLP"))
        return Unit{UnitKind::Mlp, *layer};
    return std::nullopt;
}

void ModelTreeModel::setSwitchedOff(const UnitMask &mask)
{
    m_switchedOff = mask;
    for (int r = 0; r < rowCount(); ++r) {
        const QModelIndex top = index(r, Name);
        Q_EMIT dataChanged(top, top, {Qt::FontRole, Qt::ForegroundRole});
        if (const int children = rowCount(top); children > 0)
            Q_EMIT dataChanged(index(0, Name, top), index(children - 1, Name, top), {Qt::FontRole, Qt::ForegroundRole});
    }
}

QModelIndex ModelTreeModel::index(int row, int column, const QModelIndex &parent) const
{
    if (m_tree.nodes.empty() || column < 0 || column >= ColumnCount || row < 0)
        return {};
    if (parent.isValid() && parent.column() != 0)
        return {};
    const auto &p = m_tree.nodes[static_cast<std::size_t>(nodeId(parent))];
    if (row >= static_cast<int>(p.children.size()))
        return {};
    return createIndex(row, column, static_cast<quintptr>(p.children[static_cast<std::size_t>(row)]));
}

QModelIndex ModelTreeModel::parent(const QModelIndex &child) const
{
    if (!child.isValid())
        return {};
    return indexOfNode(m_tree.nodes[static_cast<std::size_t>(nodeId(child))].parent);
}

int ModelTreeModel::rowCount(const QModelIndex &parent) const
{
    if (m_tree.nodes.empty() || (parent.isValid() && parent.column() != 0))
        return 0;
    return static_cast<int>(m_tree.nodes[static_cast<std::size_t>(nodeId(parent))].children.size());
}

int ModelTreeModel::columnCount(const QModelIndex &) const
{
    return ColumnCount;
}

QVariant ModelTreeModel::display(const ModelTree::Node &n, int id, int column) const
{
    const TensorInfo *t
        = n.kind == ModelTree::Kind::Tensor ? &m_model->tensors()[static_cast<std::size_t>(n.tensorIndex)] : nullptr;
    switch (column) {
    case Name: return n.name;
    case Shape: return t ? formatShape(t->shape) : QVariant();
    case DType: return t ? QString::fromStdString(t->storageType) : QVariant();
    case Parameters: return formatCount(n.parameters);
    case Bytes: return formatBytes(n.bytes);
    default: break;
    }
    const auto &s = m_nodeStats[static_cast<std::size_t>(id)];
    if (!s)
        return {};
    switch (column) {
    case Min: return formatStat(s->min);
    case Max: return formatStat(s->max);
    case Mean: return formatStat(s->mean);
    case Std: return formatStat(s->std);
    case L2: return formatStat(s->l2);
    case Zeros: return formatPercent(s->zeroFraction);
    case NanInf: return QStringLiteral("%1 / %2").arg(s->nanCount).arg(s->infCount);
    default: return {};
    }
}

QVariant ModelTreeModel::sortValue(const ModelTree::Node &n, int id, int column) const
{
    const TensorInfo *t
        = n.kind == ModelTree::Kind::Tensor ? &m_model->tensors()[static_cast<std::size_t>(n.tensorIndex)] : nullptr;
    switch (column) {
    // Groups keep file order (Block 2 before Block 10); tensors sort by name within a sublayer.
    case Name: return t ? QVariant(n.name) : QVariant(n.row);
    case Shape: return t ? QVariant(static_cast<qulonglong>(t->elementCount())) : QVariant();
    case DType: return t ? QString::fromStdString(t->storageType) : QVariant();
    case Parameters: return static_cast<qulonglong>(n.parameters);
    case Bytes: return static_cast<qulonglong>(n.bytes);
    default: break;
    }
    const auto &s = m_nodeStats[static_cast<std::size_t>(id)];
    if (!s)
        return {};
    switch (column) {
    case Min: return s->min;
    case Max: return s->max;
    case Mean: return s->mean;
    case Std: return s->std;
    case L2: return s->l2;
    case Zeros: return s->zeroFraction;
    case NanInf: return static_cast<qulonglong>(s->nanCount + s->infCount);
    default: return {};
    }
}

bool ModelTreeModel::switchedOff(const QModelIndex &index) const
{
    const auto unit = unitAt(index);
    if (!unit || unit->layer >= m_switchedOff.layers())
        return false;
    const auto l = static_cast<std::size_t>(unit->layer);
    switch (unit->kind) {
    case UnitKind::Block: return m_switchedOff.blockSkipped(unit->layer);
    case UnitKind::Attention: return m_switchedOff.skipAttn[l];
    case UnitKind::Mlp: return m_switchedOff.skipMlp[l];
    }
    return false;
}

QVariant ModelTreeModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || m_tree.nodes.empty())
        return {};
    const int id = nodeId(index);
    const auto &n = m_tree.nodes[static_cast<std::size_t>(id)];
    switch (role) {
    case Qt::DisplayRole: return display(n, id, index.column());
    case SortRole: return sortValue(n, id, index.column());
    case KindRole: return static_cast<int>(n.kind);
    case Qt::TextAlignmentRole:
        if (index.column() >= Parameters)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Qt::ToolTipRole:
        if (index.column() == Name)
            return n.name;
        if (index.column() == Bytes)
            return QStringLiteral("%1 bytes").arg(formatCount(n.bytes));
        if (index.column() >= Min && index.column() <= L2) {
            const QVariant v = sortValue(n, id, index.column());
            return v.isValid() ? QString::number(v.toDouble(), 'g', 17) : QVariant();
        }
        return {};
    case Qt::FontRole:
        if (n.kind != ModelTree::Kind::Tensor && index.column() == Name) {
            QFont f;
            f.setBold(n.parent == 0);
            f.setStrikeOut(switchedOff(index));
            return f;
        }
        return {};
    case Qt::ForegroundRole:
        if (index.column() == Name && switchedOff(index))
            return QColor(Qt::gray);
        // NaN or Inf in a tensor is what the column exists to catch: make it impossible to miss.
        if (index.column() == NanInf) {
            const auto &s = m_nodeStats[static_cast<std::size_t>(id)];
            if (s && s->nanCount + s->infCount > 0)
                return QColor(Qt::red);
        }
        return {};
    default: return {};
    }
}

QVariant ModelTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    static const char *const names[]
        = {"Name", "Shape", "DType", "Parameters", "Bytes", "Min", "Max", "Mean", "Std", "L2", "Zeros %", "NaN/Inf"};
    static const char *const tips[]
        = {"Group or canonical tensor name", "Shape in PyTorch order (outermost first)", "Storage type in the file",
            "Number of values (summed for groups)", "Bytes in the checkpoint (summed for groups)",
            "Smallest finite value", "Largest finite value", "Mean of the finite values",
            "Population standard deviation of the finite values", "L2 norm (Frobenius) of the finite values",
            "Share of values that are exactly zero", "Count of NaN / Inf values"};
    if (section < 0 || section >= ColumnCount)
        return {};
    if (role == Qt::DisplayRole)
        return QString::fromLatin1(names[section]);
    if (role == Qt::ToolTipRole)
        return QString::fromLatin1(tips[section]);
    if (role == Qt::TextAlignmentRole && section >= Parameters)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

} // namespace blockscope::views
