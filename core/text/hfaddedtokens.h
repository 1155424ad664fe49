#pragma once

#include "hfcomponents.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace blockscope {

struct HfAddedToken
{
    std::int32_t id = 0;
    std::string content;
    bool singleWord = false;
    bool lstrip = false;
    bool rstrip = false;
    bool normalized = false;
    bool special = false;
};

// Splits text on added tokens the way Hugging Face's AddedVocabulary does: leftmost-longest
// matches; a single_word token must not touch word characters; lstrip/rstrip swallow the
// whitespace beside the token. Tokens with `normalized` are matched on normalised text.
class HfAddedTokens
{
public:
    // `matchText` is what is searched for: the content, normalised for normalized tokens.
    void add(const HfAddedToken &token, std::string matchText);
    bool empty() const { return m_tokens.empty(); }

    // Splits every piece without a token by the tokens of one group.
    void split(std::vector<HfPiece> &pieces, bool normalizedGroup) const;

private:
    struct Entry
    {
        HfAddedToken token;
        std::string match;
    };
    void splitOne(
        const HfPiece &piece, const std::vector<std::size_t> (&byFirst)[256], std::vector<HfPiece> &out) const;

    std::vector<Entry> m_tokens;
    // Per group (raw, normalised), the entries starting with each byte, longest first.
    std::vector<std::size_t> m_byFirst[2][256];
};

} // namespace blockscope
