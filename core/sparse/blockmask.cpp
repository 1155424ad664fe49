#include "blockmask.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>

namespace blockscope::sparse {

namespace {

void applyForced(BlockMask &m, const MaskRule &rule)
{
    const int nb = m.nb;
    auto force = [&](int I, int J) {
        auto &c = m.cells[static_cast<std::size_t>(I) * nb + J];
        if (c == MaskCell::Off)
            c = MaskCell::Forced;
    };
    for (int I = 0; I < nb; ++I) {
        if (rule.forceDiagonal)
            force(I, I);
        if (rule.forceSink)
            force(I, 0);
    }
    if (rule.lastBlockDense)
        for (int I = std::max(0, nb - 2); I < nb; ++I)
            for (int J = 0; J <= I; ++J)
                force(I, J);
}

void checkDensity(double density)
{
    if (!(density > 0.0 && density <= 1.0))
        throw std::invalid_argument("density " + std::to_string(density) + " is outside (0, 1]");
}

} // namespace

std::string MaskRule::describe() const
{
    std::ostringstream s;
    s << (kind == Kind::Density ? "density " : "threshold ") << value;
    if (lastBlockDense)
        s << ", last 2 rows dense";
    if (forceDiagonal)
        s << ", diagonal forced";
    if (forceSink)
        s << ", sink forced";
    return s.str();
}

std::int64_t BlockMask::count() const
{
    std::int64_t n = 0;
    for (int I = 0; I < nb; ++I)
        for (int J = 0; J <= I; ++J)
            n += on(I, J) ? 1 : 0;
    return n;
}

int topkBlocksForDensity(double density, int nb)
{
    checkDensity(density);
    if (density >= 1.0)
        return nb;
    const double a = 1.0 - std::sqrt(1.0 - density);
    return std::max(1, static_cast<int>(std::floor(a * nb)));
}

BlockGrid rowSoftmax(const BlockGrid &logits)
{
    BlockGrid p(logits.nb);
    for (int I = 0; I < logits.nb; ++I) {
        float mx = -std::numeric_limits<float>::infinity();
        for (int J = 0; J <= I; ++J)
            mx = std::max(mx, logits.at(I, J));
        double sum = 0;
        for (int J = 0; J <= I; ++J)
            sum += std::exp(static_cast<double>(logits.at(I, J)) - mx);
        for (int J = 0; J <= I; ++J)
            p.at(I, J) = static_cast<float>(std::exp(static_cast<double>(logits.at(I, J)) - mx) / sum);
    }
    return p;
}

BlockMask selectMask(const BlockGrid &S, const MaskRule &rule)
{
    const int nb = S.nb;
    BlockMask m{nb, std::vector<MaskCell>(static_cast<std::size_t>(nb) * nb, MaskCell::Off)};
    if (rule.kind == MaskRule::Kind::Threshold) {
        if (!(rule.value >= 0.0 && rule.value < 1.0))
            throw std::invalid_argument("threshold " + std::to_string(rule.value) + " is outside [0, 1)");
        const BlockGrid p = rowSoftmax(S);
        for (int I = 0; I < nb; ++I)
            for (int J = 0; J <= I; ++J)
                if (p.at(I, J) > rule.value)
                    m.cells[static_cast<std::size_t>(I) * nb + J] = MaskCell::Selected;
    } else {
        const int k = topkBlocksForDensity(rule.value, nb);
        std::vector<int> order;
        for (int I = 0; I < nb; ++I) {
            order.resize(static_cast<std::size_t>(I) + 1);
            std::iota(order.begin(), order.end(), 0);
            // Highest logit first; ties to the lower J (stable on ascending J).
            std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return S.at(I, a) > S.at(I, b); });
            const int keep = std::min(k, I + 1);
            for (int t = 0; t < keep; ++t)
                m.cells[static_cast<std::size_t>(I) * nb + order[t]] = MaskCell::Selected;
        }
    }
    applyForced(m, rule);
    return m;
}

BlockMask staticMask(int nb, double density, bool lastBlockDense)
{
    // The same number of blocks per row as top-k at this density: the sink block plus the k − 1
    // blocks ending at the diagonal (all of them while I < k).
    const int k = topkBlocksForDensity(density, nb);
    BlockMask m{nb, std::vector<MaskCell>(static_cast<std::size_t>(nb) * nb, MaskCell::Off)};
    for (int I = 0; I < nb; ++I) {
        m.cells[static_cast<std::size_t>(I) * nb] = MaskCell::Selected;
        for (int J = std::max(1, I - k + 2); J <= I; ++J)
            m.cells[static_cast<std::size_t>(I) * nb + J] = MaskCell::Selected;
    }
    MaskRule forced;
    forced.lastBlockDense = lastBlockDense;
    applyForced(m, forced);
    return m;
}

BlockMask randomMask(int nb, double density, std::uint64_t seed, bool lastBlockDense)
{
    const int k = topkBlocksForDensity(density, nb);
    std::mt19937_64 rng(seed);
    BlockMask m{nb, std::vector<MaskCell>(static_cast<std::size_t>(nb) * nb, MaskCell::Off)};
    std::vector<int> cols;
    for (int I = 0; I < nb; ++I) {
        cols.resize(static_cast<std::size_t>(I) + 1);
        std::iota(cols.begin(), cols.end(), 0);
        const int keep = std::min(k, I + 1);
        for (int t = 0; t < keep; ++t) { // partial Fisher-Yates with rejection-free index draws
            std::uniform_int_distribution<int> pick(t, I);
            std::swap(cols[t], cols[pick(rng)]);
            m.cells[static_cast<std::size_t>(I) * nb + cols[t]] = MaskCell::Selected;
        }
    }
    MaskRule forced;
    forced.lastBlockDense = lastBlockDense;
    applyForced(m, forced);
    return m;
}

MaskStats maskStats(
    const BlockMask &mask, int tokens, int blockSize, const std::vector<float> &tokenMass, const BlockGrid &blockMass)
{
    const int nb = mask.nb;
    MaskStats s;
    if (nb == 0 || tokens <= 0)
        return s;
    const double triangle = nb * (nb + 1) / 2.0;
    std::int64_t all = 0, learned = 0;
    double pairs = 0;
    auto rowTokens = [&](int I) { return std::min(blockSize, tokens - I * blockSize); };
    for (int I = 0; I < nb; ++I) {
        bool anyOn = false;
        for (int J = 0; J <= I; ++J) {
            const MaskCell c = mask.cell(I, J);
            if (c == MaskCell::Off)
                continue;
            anyOn = true;
            ++all;
            if (c == MaskCell::Selected)
                ++learned;
            // Causal pairs (i, j) with i in I, j in J, j <= i.
            const int ni = rowTokens(I), nj = rowTokens(J);
            if (J < I)
                pairs += static_cast<double>(ni) * nj;
            else
                pairs += static_cast<double>(ni) * (ni + 1) / 2.0;
        }
        if (!anyOn)
            s.emptyRows += rowTokens(I);
    }
    s.tileDensity = all / triangle;
    s.tileDensityLearned = learned / triangle;
    s.pairDensity = pairs / (static_cast<double>(tokens) * (tokens + 1) / 2.0);
    if (!tokenMass.empty()) {
        std::vector<double> r(static_cast<std::size_t>(tokens));
        double sum = 0;
        for (int i = 0; i < tokens; ++i) {
            const int I = i / blockSize;
            double kept = 0;
            for (int J = 0; J <= I; ++J)
                if (mask.on(I, J))
                    kept += tokenMass[static_cast<std::size_t>(i) * nb + J];
            r[static_cast<std::size_t>(i)] = kept;
            sum += kept;
        }
        s.recallMean = sum / tokens;
        std::sort(r.begin(), r.end());
        s.recallMin = r.front();
        s.recallP5 = r[static_cast<std::size_t>(std::floor(0.05 * (tokens - 1)))];
    } else {
        double kept = 0;
        for (int I = 0; I < nb; ++I)
            for (int J = 0; J <= I; ++J)
                if (mask.on(I, J))
                    kept += blockMass.at(I, J);
        s.recallMean = kept / tokens;
        s.recallP5 = s.recallMin = std::numeric_limits<double>::quiet_NaN();
    }
    return s;
}

} // namespace blockscope::sparse
