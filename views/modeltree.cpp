#include "modeltree.h"

#include "model/modelhandle.h"

#include <algorithm>

namespace blockscope::views {

namespace {

class Builder
{
public:
    explicit Builder(const ModelHandle &model)
        : m_model(model)
    {
        m_tree.nodes.push_back({ModelTree::Kind::Root, QString(), -1, 0, {}, -1, 0, 0, {}});
    }

    int group(int parent, const QString &name)
    {
        ModelTree::Node n;
        n.kind = ModelTree::Kind::Group;
        n.name = name;
        return add(parent, std::move(n));
    }

    void tensor(int parent, int index)
    {
        const TensorInfo &t = m_model.tensors()[static_cast<std::size_t>(index)];
        ModelTree::Node n;
        n.kind = ModelTree::Kind::Tensor;
        n.name = QString::fromStdString(t.name);
        n.tensorIndex = index;
        add(parent, std::move(n));
        // Totals roll up to every ancestor, so a block shows the sum of its two sublayers.
        for (int p = parent; p >= 0; p = m_tree.nodes[static_cast<std::size_t>(p)].parent) {
            auto &node = m_tree.nodes[static_cast<std::size_t>(p)];
            node.parameters += t.elementCount();
            node.bytes += t.bytes;
            node.tensors.push_back(index);
        }
        auto &self = m_tree.nodes.back();
        self.parameters = t.elementCount();
        self.bytes = t.bytes;
        self.tensors = {index};
    }

    // A group holding the given tensors, left out when there are none (an LM head tied to the
    // embedding, a model without stray tensors).
    void groupOf(int parent, const QString &name, const std::vector<int> &indices)
    {
        if (indices.empty())
            return;
        const int g = group(parent, name);
        for (int i : indices)
            tensor(g, i);
    }

    ModelTree take() { return std::move(m_tree); }

private:
    int add(int parent, ModelTree::Node n)
    {
        auto &p = m_tree.nodes[static_cast<std::size_t>(parent)];
        n.parent = parent;
        n.row = static_cast<int>(p.children.size());
        const int id = static_cast<int>(m_tree.nodes.size());
        p.children.push_back(id);
        m_tree.nodes.push_back(std::move(n));
        return id;
    }

    const ModelHandle &m_model;
    ModelTree m_tree;
};

std::vector<int> withRole(const ModelHandle &model, TensorRole role)
{
    std::vector<int> out;
    const auto &tensors = model.tensors();
    for (std::size_t i = 0; i < tensors.size(); ++i)
        if (tensors[i].role == role)
            out.push_back(static_cast<int>(i));
    return out;
}

// Role Other, plus block tensors that carry no block index and so cannot be placed in a block:
// every tensor must appear somewhere in the tree.
std::vector<int> unplaced(const ModelHandle &model)
{
    std::vector<int> out;
    const auto &tensors = model.tensors();
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const auto &t = tensors[i];
        const bool blockRole = t.role == TensorRole::Attention || t.role == TensorRole::Mlp;
        if (t.role == TensorRole::Other || (blockRole && t.block < 0))
            out.push_back(static_cast<int>(i));
    }
    return out;
}

} // namespace

ModelTree ModelTree::build(const ModelHandle &model)
{
    Builder b(model);
    b.groupOf(0, QStringLiteral("Embedding"), withRole(model, TensorRole::Embedding));

    int blocks = static_cast<int>(model.architecture().layers);
    for (const auto &t : model.tensors())
        blocks = std::max(blocks, t.block + 1);
    for (int i = 0; i < blocks; ++i) {
        const auto attention = model.blockTensors(i, TensorRole::Attention);
        const auto mlp = model.blockTensors(i, TensorRole::Mlp);
        if (attention.empty() && mlp.empty())
            continue;
        const int block = b.group(0, QStringLiteral("Block %1").arg(i));
        b.groupOf(block, QStringLiteral("Attention"), attention);
        b.groupOf(block, QStringLiteral("MLP"), mlp);
    }

    b.groupOf(0, QStringLiteral("Final norm"), withRole(model, TensorRole::FinalNorm));
    b.groupOf(0, QStringLiteral("LM head"), withRole(model, TensorRole::LmHead));
    b.groupOf(0, QStringLiteral("Other"), unplaced(model));
    return b.take();
}

} // namespace blockscope::views
