#pragma once

// Where a head's block mask comes from, and the one way every consumer (the attention page, the
// gates commands, sparse evaluation and the sparsity sweep) selects it. Plain arrays, no LibTorch,
// so the page can re-select as a slider moves.

#include "blockmask.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace blockscope::sparse {

enum class MaskSource {
    Gates, // the trained gates' logits
    Oracle, // the ground truth Ĝ itself (an upper bound for any gate)
    Static, // the sink + local-window pattern at the same blocks per row
    Random, // seeded random blocks, the same count per row
};

const char *maskSourceName(MaskSource source); // "gates", "oracle", "static", "random"
std::optional<MaskSource> maskSourceFromName(const std::string &name);
const char *maskSourceNames(); // "gates, oracle, static, random"

// Whether the source ranks blocks by a score (and so takes a threshold as well as a density).
bool maskSourceHasScores(MaskSource source);

// Log-space stand-in for the ground truth Ĝ (rows over J <= I that sum to 1): the row softmax of
// log Ĝ is Ĝ itself, so a threshold applies to the true map (not to a softmax of probabilities)
// and top-k keeps its largest blocks. Zero cells (and those above the diagonal) get -80.
BlockGrid oracleLogits(const BlockGrid &truth);

// What one head's mask is selected from.
struct HeadScores
{
    const BlockGrid *gateLogits = nullptr; // needed for Gates
    const BlockGrid *truth = nullptr; // Ĝ, needed for Oracle
    int nb = 0; // blocks per side (the grids', when given)
    std::uint64_t seed = 0; // Random: a seed per head (and window, and layer)
};

// One head's mask under `rule`. Throws std::invalid_argument naming what is missing (no gate
// logits for Gates, no ground truth for Oracle) or wrong (a threshold for Static or Random, a
// rule out of range).
BlockMask headMask(MaskSource source, const HeadScores &scores, const MaskRule &rule);

// The statistics over heads: densities, mean recall and p5 average (p5 is NaN unless every head
// knows it), the worst token is the worst of any head (NaN when one head does not know it), empty
// rows add up. An empty list gives zeros.
MaskStats meanOverHeads(const std::vector<MaskStats> &heads);

} // namespace blockscope::sparse
