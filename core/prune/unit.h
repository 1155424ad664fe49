#pragma once

#include "model/unitmask.h"

#include <string>
#include <vector>

namespace blockscope {

// A unit a search can remove (pruning.md §1): a whole block, or one of its two sublayers.
enum class UnitKind { Block = 0, Attention = 1, Mlp = 2 };

struct Unit
{
    UnitKind kind = UnitKind::Block;
    int layer = 0;

    // "block 3", "attn 3", "mlp 3".
    std::string label() const;
    // model.layers.{l}.self_attn.o_proj / model.layers.{l}.mlp.down_proj (FinerCut's sort key);
    // blocks are named model.layers.{l}.
    std::string hfName() const;
    // Applies the unit to a mask (sets the bits it covers).
    void applyTo(UnitMask &mask) const;
    bool operator==(const Unit &) const = default;
};

std::string unitKindName(UnitKind kind); // "block", "attn", "mlp"
// Parses unitKindName's output; throws std::invalid_argument otherwise.
UnitKind unitKindFromName(const std::string &name);
// Parses "attn 3" / "mlp 3" / "block 3"; throws std::invalid_argument naming the text.
Unit unitFromLabel(const std::string &label);
// The units' labels joined: "attn 3, mlp 4".
std::string unitsLabel(const std::vector<Unit> &units, const char *separator = ", ");

} // namespace blockscope
