#include "windows.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <stdexcept>

namespace blockscope {

namespace {
void finish(WindowSet &set)
{
    auto &p = set.protocol;
    if (p.maxWindows > 0 && static_cast<std::int64_t>(set.windows.size()) > p.maxWindows) {
        p.selection = "first " + std::to_string(p.maxWindows) + " of " + std::to_string(set.windows.size())
            + " windows (" + p.selection + ")";
        set.windows.resize(p.maxWindows);
    }
    p.windows = static_cast<std::int64_t>(set.windows.size());
    p.tokens = p.scoredTokens = 0;
    for (const auto &w : set.windows) {
        p.tokens += static_cast<std::int64_t>(w.ids.size());
        p.scoredTokens += w.scored();
    }
}
} // namespace

WindowSet cutWindows(const std::vector<std::int32_t> &stream, Protocol protocol, std::optional<std::int32_t> bos)
{
    const std::int64_t T = protocol.context, S = protocol.stride;
    if (T < 2)
        throw std::invalid_argument("context length " + std::to_string(T) + " is too short (at least 2)");
    if (S < 1 || S > T)
        throw std::invalid_argument(
            "stride " + std::to_string(S) + " must be between 1 and the context " + std::to_string(T));
    if (protocol.bos != BosPolicy::None && !bos)
        throw std::invalid_argument("the protocol needs a BOS token but the tokenizer has none");
    if (protocol.formula != PplFormula::F4Strided && S != T)
        throw std::invalid_argument("a stride different from the context needs formula F4 (strided)");

    WindowSet set;
    set.protocol = protocol;
    if (protocol.bos == BosPolicy::EachWindow) {
        // [BOS] + the next T-1 stream tokens; full windows only.
        const std::size_t step = static_cast<std::size_t>(T - 1);
        for (std::size_t at = 0; at + step <= stream.size(); at += step) {
            TokenWindow w;
            w.ids.reserve(T);
            w.ids.push_back(*bos);
            w.ids.insert(w.ids.end(), stream.begin() + at, stream.begin() + at + step);
            set.windows.push_back(std::move(w));
        }
    } else {
        std::vector<std::int32_t> s;
        s.reserve(stream.size() + 1);
        if (protocol.bos == BosPolicy::StreamStart)
            s.push_back(*bos);
        s.insert(s.end(), stream.begin(), stream.end());
        const auto n = static_cast<std::int64_t>(s.size());
        if (protocol.formula == PplFormula::F4Strided) {
            std::int64_t prevEnd = 0;
            for (std::int64_t begin = 0; begin < n; begin += S) {
                const std::int64_t end = std::min(begin + T, n);
                TokenWindow w;
                w.ids.assign(s.begin() + begin, s.begin() + end);
                const std::int64_t newTargets = end - prevEnd;
                w.firstTarget = std::max<std::int64_t>(1, (end - begin) - newTargets);
                if (w.scored() > 0)
                    set.windows.push_back(std::move(w));
                prevEnd = end;
                if (end == n)
                    break;
            }
        } else {
            for (std::int64_t at = 0; at + T <= n; at += T)
                set.windows.push_back({std::vector<std::int32_t>(s.begin() + at, s.begin() + at + T), 1});
        }
    }
    if (set.windows.empty())
        throw std::invalid_argument("the text has " + std::to_string(stream.size()) + " tokens"
            + (protocol.reconstruction.empty() ? std::string() : " (" + protocol.reconstruction + ")")
            + ", too few for one window of " + std::to_string(T));
    finish(set);
    return set;
}

WindowSet sampleWindows(const WindowSet &set, std::int64_t n, std::uint64_t seed)
{
    std::vector<std::size_t> idx(set.windows.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::mt19937_64 rng(seed);
    std::shuffle(idx.begin(), idx.end(), rng);
    idx.resize(std::min<std::size_t>(idx.size(), static_cast<std::size_t>(std::max<std::int64_t>(n, 0))));
    std::sort(idx.begin(), idx.end());
    WindowSet out;
    out.protocol = set.protocol;
    out.protocol.seed = seed;
    out.protocol.selection
        = std::to_string(idx.size()) + " windows sampled at random from " + std::to_string(set.windows.size());
    out.protocol.maxWindows = 0;
    for (auto i : idx)
        out.windows.push_back(set.windows[i]);
    finish(out);
    return out;
}

} // namespace blockscope
