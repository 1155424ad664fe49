#pragma once

#include "render/colourmaps.h"
#include "sparse/blockmask.h"

#include <QImage>

#include <cstdint>
#include <vector>

namespace blockscope::render {

// Which cells a mask keeps, ready to draw: per cell the fraction of heads that keep it (0 or 1
// for one head's mask, steps of 1/H for the mean over H heads) and whether it is forced
// (lastBlockDense rows, a forced diagonal or sink: the same for every head).
struct MaskOverlay
{
    int size = 0; // cells per side
    std::vector<float> kept;
    std::vector<std::uint8_t> forced;

    bool isEmpty() const { return size == 0; }
    float keptAt(int row, int col) const { return kept[static_cast<std::size_t>(row) * size + col]; }
    bool forcedAt(int row, int col) const { return forced[static_cast<std::size_t>(row) * size + col] != 0; }

    static MaskOverlay fromMask(const sparse::BlockMask &mask);
    // The fraction of the masks that keep each cell; empty for no masks or masks of unequal size.
    static MaskOverlay fromMasks(const std::vector<sparse::BlockMask> &masks);
    // The block overlay on a token grid: token (i, j) takes the state of tile (i / B, j / B).
    MaskOverlay expandedToTokens(int tokens, int blockSize) const;
};

// One pixel per cell (row I down, column J across), Format_RGB32: the value's colour on `scale`,
// the background colour for NaN and, when `causal`, for every cell above the diagonal (the block
// maps hold 0 there, which is not a probability of 0). With an overlay of the same size each
// cell is drawn as maskedColour(). Cheap enough to redo on every mask change (512 x 512 cells
// in a few milliseconds); views scale the result without smoothing.
QImage heatmapPixels(
    const sparse::BlockGrid &grid, const ValueScale &scale, bool causal = true, const MaskOverlay *overlay = nullptr);

} // namespace blockscope::render
