#pragma once

#include <QString>

#include <cstdint>
#include <vector>

namespace blockscope {
class ModelHandle;
}

namespace blockscope::views {

// The decoder as the tree the user browses: Embedding, Block i (Attention, MLP), Final norm,
// LM head, Other. Built once per opened model; the item model only adapts it.
struct ModelTree
{
    enum class Kind { Root, Group, Tensor };

    struct Node
    {
        Kind kind = Kind::Group;
        QString name;
        int parent = -1; // index into nodes; -1 only for the root
        int row = 0; // position among the parent's children
        std::vector<int> children;
        int tensorIndex = -1; // into ModelHandle::tensors() for Kind::Tensor
        std::uint64_t parameters = 0;
        std::uint64_t bytes = 0;
        std::vector<int> tensors; // every tensor index under this node, for totals and statistics
    };

    // nodes[0] is the invisible root.
    std::vector<Node> nodes;

    static ModelTree build(const ModelHandle &model);
};

} // namespace blockscope::views
