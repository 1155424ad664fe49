#pragma once

#include <cstdint>

namespace blockscope {

// Sanity caps for values read from checkpoint headers (formats.md, "Rules for every parser").
// A value within the caps must still fit the file; these only stop absurd allocations early.
struct SanityCaps
{
    std::int64_t maxLayers = 1024;
    std::int64_t maxHeads = 1024;
    std::int64_t maxHidden = 131072;
    std::int64_t maxFfn = 1048576;
    std::int64_t maxVocab = 4194304;
    std::int64_t maxContext = 16777216;
    int maxRank = 8;
    int maxGgufRank = 4;
    std::uint64_t maxJsonBytes = 100ull * 1024 * 1024;
    int maxJsonDepth = 64;
    std::uint64_t maxStringBytes = 1024 * 1024;
    std::uint64_t maxTokenizerFileBytes = 64ull * 1024 * 1024;
};

const SanityCaps &defaultCaps();

} // namespace blockscope
