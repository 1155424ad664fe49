#pragma once

#include "protocol.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace blockscope {

// One evaluation window: ids[p] for p >= firstTarget are the targets, each predicted from the
// logits at p - 1.
struct TokenWindow
{
    std::vector<std::int32_t> ids;
    std::int64_t firstTarget = 1;
    std::int64_t scored() const { return static_cast<std::int64_t>(ids.size()) - firstTarget; }
};

struct WindowSet
{
    std::vector<TokenWindow> windows;
    Protocol protocol; // windows/tokens/scoredTokens filled in
};

// Cuts a token stream (no BOS in it) into windows as the protocol says (BOS policy, T, stride,
// formula F4 for strided windows, maxWindows). Throws std::invalid_argument when the protocol is
// inconsistent (T < 2, stride < 1 or > T, a BOS policy without a BOS id) and when the stream is
// too short for one window.
WindowSet cutWindows(const std::vector<std::int32_t> &stream, Protocol protocol, std::optional<std::int32_t> bos);

// A seeded random subset of n windows (without replacement, in their original order).
WindowSet sampleWindows(const WindowSet &set, std::int64_t n, std::uint64_t seed);

} // namespace blockscope
