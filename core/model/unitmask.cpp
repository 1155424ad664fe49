#include "unitmask.h"

namespace blockscope {

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
