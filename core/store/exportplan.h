#pragma once

// What the Hugging Face and GGUF exports decide alike for each tensor of a configuration: where a
// kept block goes, which output projections are zeroed, which rows are q/k (internal to store/).

#include "model/tensorinfo.h"
#include "model/tensornames.h"
#include "model/unitmask.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace blockscope::exportplan {

inline bool endsWith(const std::string &s, std::string_view suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Blocks kept by `mask`, renumbered from 0: newIndex[b] is block b's layer in the export (-1:
// removed), blockMap[k] the source block of exported layer k.
struct Renumbering
{
    std::vector<int> newIndex;
    std::vector<int> blockMap;
    explicit Renumbering(const UnitMask &mask)
        : newIndex(static_cast<std::size_t>(mask.layers()), -1)
    {
        for (int l = 0; l < mask.layers(); ++l)
            if (!mask.blockSkipped(l)) {
                newIndex[static_cast<std::size_t>(l)] = static_cast<int>(blockMap.size());
                blockMap.push_back(l);
            }
    }
    // The tensor's Hugging Face name in the export; nullopt when its block is removed.
    std::optional<std::string> rename(const TensorInfo &t) const
    {
        if (t.block < 0)
            return t.name;
        const int to = newIndex[static_cast<std::size_t>(t.block)];
        if (to < 0)
            return std::nullopt;
        return layerPrefix(to) + t.name.substr(layerPrefix(t.block).size());
    }
};

// The output projection (or its bias) of a sublayer `mask` removes inside a kept block: zeroed,
// it adds exactly nothing to the residual stream, as skipping the sublayer does.
inline bool zeroedProjection(const TensorInfo &t, const UnitMask &mask)
{
    if (t.block < 0)
        return false;
    const auto l = static_cast<std::size_t>(t.block);
    return (t.role == TensorRole::Attention && mask.skipAttn[l]
               && (endsWith(t.name, "self_attn.o_proj.weight") || endsWith(t.name, "self_attn.o_proj.bias")))
        || (t.role == TensorRole::Mlp && mask.skipMlp[l]
            && (endsWith(t.name, "mlp.down_proj.weight") || endsWith(t.name, "mlp.down_proj.bias")));
}

// Query heads for a q projection, key/value heads for a k projection, 0 for anything else: the
// rows RoPE's layout permutes.
inline std::int64_t ropeRowHeads(const std::string &name, std::int64_t heads, std::int64_t kvHeads)
{
    if (endsWith(name, "q_proj.weight") || endsWith(name, "q_proj.bias"))
        return heads;
    if (endsWith(name, "k_proj.weight") || endsWith(name, "k_proj.bias"))
        return kvHeads;
    return 0;
}

} // namespace blockscope::exportplan
