#pragma once

#include <string>
#include <vector>

namespace blockscope {

// Which units of a decoder are skipped: the attention sublayer, the MLP sublayer, or both (the
// whole block). A skipped sublayer, its norm included, is not computed; the residual passes
// through (pruning.md §1).
struct UnitMask
{
    std::vector<bool> skipAttn;
    std::vector<bool> skipMlp;

    static UnitMask dense(int layers) { return {std::vector<bool>(layers, false), std::vector<bool>(layers, false)}; }
    // The mask of the command lines' --skip-attn / --skip-mlp / --skip-block lists. Throws
    // UsageError naming the option and the block that does not exist.
    static UnitMask fromSkipLists(
        int layers, const std::vector<int> &attn, const std::vector<int> &mlp, const std::vector<int> &blocks);
    int layers() const { return static_cast<int>(skipAttn.size()); }
    bool blockSkipped(int l) const { return skipAttn[l] && skipMlp[l]; }
    void skipBlock(int l) { skipAttn[l] = skipMlp[l] = true; }
    int skippedUnits() const;
    bool operator==(const UnitMask &) const = default;
    // "attn 3, mlp 4, block 2" style description; "dense" when nothing is skipped.
    std::string describe() const;
};

} // namespace blockscope
