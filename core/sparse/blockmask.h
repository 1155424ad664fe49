#pragma once

// Block masks from gate scores and what they keep (seerattention.md §5, §7), on plain arrays so
// the views can re-select a mask as a slider moves without LibTorch. One head at a time.

#include <cstdint>
#include <string>
#include <vector>

namespace blockscope::sparse {

// A square nb x nb grid of floats, row-major (query block I = row, key block J = column).
struct BlockGrid
{
    int nb = 0;
    std::vector<float> values; // nb * nb

    BlockGrid() = default;
    explicit BlockGrid(int n, float fill = 0.0f)
        : nb(n)
        , values(static_cast<std::size_t>(n) * static_cast<std::size_t>(n), fill)
    {
    }
    float at(int row, int col) const { return values[static_cast<std::size_t>(row) * nb + col]; }
    float &at(int row, int col) { return values[static_cast<std::size_t>(row) * nb + col]; }
};

struct MaskRule
{
    enum class Kind { Threshold, Density };
    Kind kind = Kind::Density;
    double value = 0.5; // τ for Threshold (strict >, on softmax_J(S)); ρ for Density (causal-triangle density)
    bool lastBlockDense = true; // the last two query-block rows are dense
    bool forceDiagonal = false; // off in faithful mode
    bool forceSink = false; // key block 0; off in faithful mode

    std::string describe() const; // "density 0.5" / "threshold 0.002", plus forced options
};

// Cell states: learned selections and forced cells are kept apart (heatmaps colour them apart).
enum class MaskCell : std::uint8_t { Off = 0, Selected = 1, Forced = 2 };

struct BlockMask
{
    int nb = 0;
    std::vector<MaskCell> cells; // nb * nb; nothing above the diagonal is ever on

    bool on(int row, int col) const { return cells[static_cast<std::size_t>(row) * nb + col] != MaskCell::Off; }
    MaskCell cell(int row, int col) const { return cells[static_cast<std::size_t>(row) * nb + col]; }
    std::int64_t count() const; // cells on (J <= I)
};

// k = max(1, floor((1 - sqrt(1 - ρ)) · nb)); ρ >= 1 gives nb. Throws std::invalid_argument outside (0, 1].
int topkBlocksForDensity(double density, int nb);

// §5 from raw gate logits S (entries above the diagonal are ignored): threshold on the row softmax
// over J <= I (strict >), or top-k of S per row with ties to the lower J; then forced rows/cells;
// finally tril. Throws std::invalid_argument for τ outside [0, 1) or ρ outside (0, 1].
BlockMask selectMask(const BlockGrid &gateLogits, const MaskRule &rule);

// softmax_J over J <= I of each row of S (zeros above the diagonal).
BlockGrid rowSoftmax(const BlockGrid &logits);

// The static baseline at the same density as top-k: every row keeps min(k, I+1) blocks, the first
// key block (the sink) plus the k − 1 blocks ending at the diagonal; plus the forced last rows.
BlockMask staticMask(int nb, double density, bool lastBlockDense = true);

// A seeded random mask of the given density: every row keeps min(k, I+1) uniformly chosen blocks.
BlockMask randomMask(int nb, double density, std::uint64_t seed, bool lastBlockDense = true);

// What one head's mask keeps, given the true attention (§7).
struct MaskStats
{
    double tileDensity = 0; // selected causal tiles / (nb(nb+1)/2), forced rows included
    double tileDensityLearned = 0; // the same without the forced rows
    double pairDensity = 0; // causal (i, j) pairs inside selected tiles / (N(N+1)/2)
    double recallMean = 0; // mean over tokens of the dense softmax mass kept
    double recallP5 = 0; // 5th percentile over tokens (NaN when only block sums are known)
    double recallMin = 0; // minimum over tokens (NaN when only block sums are known)
    std::int64_t emptyRows = 0; // tokens with no selected key
};

// `tokenMass` is Msum [N x nb] row-major (per token, mass in each key block) or empty; then
// `blockMass` (Σ_{i∈I} Msum[i, J], nb x nb) gives the mean recall only.
MaskStats maskStats(
    const BlockMask &mask, int tokens, int blockSize, const std::vector<float> &tokenMass, const BlockGrid &blockMass);

} // namespace blockscope::sparse
