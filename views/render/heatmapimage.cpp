#include "heatmapimage.h"

#include <array>
#include <cmath>

namespace blockscope::render {

MaskOverlay MaskOverlay::fromMask(const sparse::BlockMask &mask)
{
    MaskOverlay o;
    o.size = mask.nb;
    const std::size_t n = static_cast<std::size_t>(mask.nb) * static_cast<std::size_t>(mask.nb);
    o.kept.assign(n, 0.0f);
    o.forced.assign(n, 0);
    for (std::size_t i = 0; i < n && i < mask.cells.size(); ++i) {
        o.kept[i] = mask.cells[i] == sparse::MaskCell::Off ? 0.0f : 1.0f;
        o.forced[i] = mask.cells[i] == sparse::MaskCell::Forced ? 1 : 0;
    }
    return o;
}

MaskOverlay MaskOverlay::fromMasks(const std::vector<sparse::BlockMask> &masks)
{
    if (masks.empty())
        return {};
    const int nb = masks.front().nb;
    for (const auto &m : masks)
        if (m.nb != nb)
            return {};
    MaskOverlay o;
    o.size = nb;
    const std::size_t n = static_cast<std::size_t>(nb) * static_cast<std::size_t>(nb);
    o.kept.assign(n, 0.0f);
    o.forced.assign(n, 0);
    std::vector<int> keptCount(n, 0);
    for (const auto &m : masks)
        for (std::size_t i = 0; i < n && i < m.cells.size(); ++i) {
            keptCount[i] += m.cells[i] != sparse::MaskCell::Off;
            if (m.cells[i] == sparse::MaskCell::Forced)
                o.forced[i] = 1;
        }
    for (std::size_t i = 0; i < n; ++i)
        o.kept[i] = static_cast<float>(keptCount[i]) / static_cast<float>(masks.size());
    return o;
}

MaskOverlay MaskOverlay::expandedToTokens(int tokens, int blockSize) const
{
    if (tokens <= 0 || blockSize <= 0 || (tokens + blockSize - 1) / blockSize > size)
        return {};
    MaskOverlay o;
    o.size = tokens;
    const std::size_t n = static_cast<std::size_t>(tokens) * static_cast<std::size_t>(tokens);
    o.kept.resize(n);
    o.forced.resize(n);
    for (int i = 0; i < tokens; ++i)
        for (int j = 0; j < tokens; ++j) {
            const std::size_t t = static_cast<std::size_t>(i) * tokens + j;
            o.kept[t] = keptAt(i / blockSize, j / blockSize);
            o.forced[t] = forcedAt(i / blockSize, j / blockSize) ? 1 : 0;
        }
    return o;
}

QImage heatmapPixels(const sparse::BlockGrid &grid, const ValueScale &scale, bool causal, const MaskOverlay *overlay)
{
    const int n = grid.nb;
    if (n <= 0 || grid.values.size() < static_cast<std::size_t>(n) * static_cast<std::size_t>(n))
        return {};
    QImage image(n, n, QImage::Format_RGB32);
    const bool masked = overlay && overlay->size == n;
    // A table (257 entries: the ends and the middle exact): one log10 and one lookup per cell.
    std::array<QRgb, 257> table;
    for (int i = 0; i < 257; ++i)
        table[static_cast<std::size_t>(i)] = viridis(i / 256.0);
    const QRgb background = backgroundColour();
    for (int row = 0; row < n; ++row) {
        auto *line = reinterpret_cast<QRgb *>(image.scanLine(row));
        for (int col = 0; col < n; ++col) {
            const double v = grid.at(row, col);
            const double t = (causal && col > row) ? std::nan("") : scale.position(v);
            if (std::isnan(t)) {
                line[col] = background;
                continue;
            }
            QRgb c = table[static_cast<std::size_t>(std::lround(t * 256.0))];
            if (masked)
                c = maskedColour(c, overlay->keptAt(row, col), overlay->forcedAt(row, col));
            line[col] = c;
        }
    }
    return image;
}

} // namespace blockscope::render
