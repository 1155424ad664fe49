#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace blockscope {

struct TransparentStringHash
{
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using StringIdMap = std::unordered_map<std::string, std::int32_t, TransparentStringHash, std::equal_to<>>;

// A vocabulary merged by piece score: llama2.c's tokenizer.bin, and GGUF "llama" vocabularies
// (SentencePiece BPE exported with scores). The algorithm is the one of formats.md §2: start from
// code points, then repeatedly merge the adjacent pair whose concatenation is the entry with the
// highest score, leftmost on ties. Code points without an entry fall back to byte tokens.
struct ScoredVocab
{
    std::vector<std::string> pieces;
    std::vector<float> scores;
    StringIdMap ids; // duplicate strings: the lowest id (first inserted) wins
    std::array<std::int32_t, 256> byteIds{}; // -1 when the vocabulary has no token for the byte
    std::int32_t unkId = -1; // used for bytes without a token; else encode throws
    std::size_t maxPieceBytes = 0;

    // Fills `ids` and `maxPieceBytes` from `pieces`; returns the number of duplicate strings.
    int index();
};

// Encodes `text` as it stands (callers add dummy prefixes and space markers). Invalid UTF-8 bytes
// are taken one at a time and go to the byte tokens. O(n log n): merges come from a priority queue
// over adjacent pairs of a linked list, so megabyte texts are fine. Throws FormatError naming
// `file` when a byte has no token and there is no unknown token.
std::vector<std::int32_t> scoredBpeEncode(const ScoredVocab &vocab, std::string_view text, const std::string &file);

} // namespace blockscope
