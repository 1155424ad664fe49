#pragma once

#include "scoredbpe.h"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace blockscope {

// The "BPE" model of a tokenizer.json (formats.md §8 step 4): a piece starts as characters (or
// byte tokens / unk), then the adjacent pair with the lowest merge rank is merged, leftmost on
// ties, through a priority queue over a linked list, exactly as Hugging Face's Word::merge_all.
class HfBpeModel
{
public:
    // Validates vocab ids (unique, in 0..idLimit) and merges (two known symbols whose
    // concatenation is in the vocabulary). Throws FormatError naming `file`.
    HfBpeModel(const nlohmann::json &model, const std::string &file, std::int64_t idLimit);

    // Appends the ids of one pre-tokenized piece; results are memoised in `cache`.
    void encodePiece(std::string_view piece, std::vector<std::int32_t> &out,
        std::unordered_map<std::string, std::vector<std::int32_t>> &cache) const;

    std::optional<std::int32_t> idOf(std::string_view token) const;
    const std::string *tokenOf(std::int32_t id) const;
    std::int64_t idEnd() const { return static_cast<std::int64_t>(m_tokens.size()); }
    std::size_t mergeCount() const { return m_merges.size(); }

private:
    void mergeWord(std::string_view piece, std::vector<std::int32_t> &out) const;

    std::string m_file;
    StringIdMap m_vocab;
    std::vector<std::string> m_tokens; // by id; ids without a token are empty
    std::vector<bool> m_hasToken;
    std::unordered_map<std::uint64_t, std::pair<std::uint32_t, std::int32_t>> m_merges; // pair -> rank, result
    std::array<std::int32_t, 256> m_byteTokens{};
    std::optional<std::int32_t> m_unk;
    bool m_fuseUnk = false;
    bool m_byteFallback = false;
    bool m_ignoreMerges = false;
    std::string m_prefix; // continuing_subword_prefix
    std::string m_suffix; // end_of_word_suffix
};

} // namespace blockscope
