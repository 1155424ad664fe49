#include "unitmask.h"

#include "common/formaterror.h"

namespace blockscope {

UnitMask UnitMask::fromSkipLists(
    int layers, const std::vector<int> &attn, const std::vector<int> &mlp, const std::vector<int> &blocks)
{
    UnitMask mask = dense(layers);
    const auto apply = [&](const std::vector<int> &list, const char *option, bool a, bool m) {
        for (int l : list) {
            if (l < 0 || l >= layers)
                throw UsageError(std::string(option) + " " + std::to_string(l)
                    + " does not exist: the model has blocks 0.." + std::to_string(layers - 1));
            const auto i = static_cast<std::size_t>(l);
            mask.skipAttn[i] = mask.skipAttn[i] || a;
            mask.skipMlp[i] = mask.skipMlp[i] || m;
        }
    };
    apply(attn, "--skip-attn", true, false);
    apply(mlp, "--skip-mlp", false, true);
    apply(blocks, "--skip-block", true, true);
    return mask;
}

int UnitMask::skippedUnits() const
{
    int n = 0;
    for (int l = 0; l < layers(); ++l)
        n += skipAttn[l] + skipMlp[l];
    return n;
}

std::string UnitMask::describe() const
{
    std::string s;
    auto add = [&](const std::string &part) { s += (s.empty() ? "" : ", ") + part; };
    for (int l = 0; l < layers(); ++l) {
        if (blockSkipped(l))
            add("block " + std::to_string(l));
        else if (skipAttn[l])
            add("attn " + std::to_string(l));
        else if (skipMlp[l])
            add("mlp " + std::to_string(l));
    }
    return s.empty() ? "dense" : s;
}

} // namespace blockscope
