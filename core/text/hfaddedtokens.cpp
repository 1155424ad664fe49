#include "hfaddedtokens.h"

#include "unicodetext.h"

#include <algorithm>

namespace blockscope {

namespace {
char32_t lastCodePoint(std::string_view s)
{
    std::size_t k = s.size() - 1;
    while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80)
        --k;
    return decodeUtf8(s, k).cp;
}

// Start of the whitespace run that ends `s` (s.size() when there is none).
std::size_t trailingSpaceStart(std::string_view s)
{
    std::size_t end = s.size();
    while (end > 0) {
        std::size_t k = end - 1;
        while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80)
            --k;
        if (!isUnicodeWhitespace(decodeUtf8(s, k).cp))
            break;
        end = k;
    }
    return end;
}

std::size_t leadingSpaceLength(std::string_view s)
{
    std::size_t i = 0;
    while (i < s.size()) {
        const auto st = decodeUtf8(s, i);
        if (!isUnicodeWhitespace(st.cp))
            break;
        i += st.len;
    }
    return i;
}
} // namespace

void HfAddedTokens::add(const HfAddedToken &token, std::string matchText)
{
    if (matchText.empty())
        return; // an empty token can never be matched
    const std::size_t index = m_tokens.size();
    m_tokens.push_back({token, std::move(matchText)});
    auto &bucket = m_byFirst[token.normalized ? 1 : 0][static_cast<unsigned char>(m_tokens.back().match[0])];
    bucket.push_back(index);
    std::stable_sort(bucket.begin(), bucket.end(),
        [&](std::size_t a, std::size_t b) { return m_tokens[a].match.size() > m_tokens[b].match.size(); });
}

void HfAddedTokens::split(std::vector<HfPiece> &pieces, bool normalizedGroup) const
{
    std::vector<HfPiece> out;
    out.reserve(pieces.size());
    for (auto &p : pieces) {
        if (p.token >= 0 || p.text.empty())
            out.push_back(std::move(p));
        else
            splitOne(p, m_byFirst[normalizedGroup ? 1 : 0], out);
    }
    pieces = std::move(out);
}

void HfAddedTokens::splitOne(
    const HfPiece &piece, const std::vector<std::size_t> (&byFirst)[256], std::vector<HfPiece> &out) const
{
    const std::string_view s = piece.text;
    std::size_t startOffset = 0;
    auto emitText = [&](std::size_t a, std::size_t b) {
        if (b > a)
            out.push_back({std::string(s.substr(a, b - a)), -1, piece.atStart && a == 0});
    };
    std::size_t i = 0;
    while (i < s.size()) {
        const Entry *found = nullptr;
        for (const std::size_t k : byFirst[static_cast<unsigned char>(s[i])]) {
            if (s.compare(i, m_tokens[k].match.size(), m_tokens[k].match) == 0) {
                found = &m_tokens[k];
                break;
            }
        }
        if (!found) {
            ++i;
            continue;
        }
        std::size_t start = i;
        std::size_t stop = i + found->match.size();
        // The search resumes after the match, whether it is kept or not (aho-corasick's iterator).
        i = stop;
        const HfAddedToken &t = found->token;
        if (t.singleWord) {
            const bool startOk = start == 0 || !isWordCharacter(lastCodePoint(s.substr(0, start)));
            const bool stopOk = stop == s.size() || !isWordCharacter(decodeUtf8(s, stop).cp);
            if (!startOk || !stopOk)
                continue;
        }
        if (t.lstrip)
            start = std::max(trailingSpaceStart(s.substr(0, start)), startOffset);
        if (t.rstrip)
            stop += leadingSpaceLength(s.substr(stop));
        start = std::max(start, startOffset);
        emitText(startOffset, start);
        out.push_back({t.content, t.id, false});
        startOffset = stop;
    }
    emitText(startOffset, s.size());
}

} // namespace blockscope
