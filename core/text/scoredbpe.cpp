#include "scoredbpe.h"

#include "common/formaterror.h"
#include "unicodetext.h"

#include <cstdio>
#include <queue>

namespace blockscope {

int ScoredVocab::index()
{
    ids.clear();
    ids.reserve(pieces.size());
    maxPieceBytes = 0;
    int duplicates = 0;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        if (!ids.emplace(pieces[i], static_cast<std::int32_t>(i)).second)
            ++duplicates;
        maxPieceBytes = std::max(maxPieceBytes, pieces[i].size());
    }
    return duplicates;
}

namespace {

struct Symbol
{
    std::uint32_t start;
    std::uint32_t len; // 0 once merged into its left neighbour
    std::int32_t prev;
    std::int32_t next;
    std::int32_t id;
    bool mergeable; // byte-fallback tokens never merge: their text is not their piece
};

struct Candidate
{
    float score;
    std::uint32_t start; // of the left symbol: leftmost wins ties
    std::int32_t left;
    std::int32_t right;
    std::uint32_t len; // combined length, to recognise stale entries
    std::int32_t id;

    bool operator<(const Candidate &o) const
    {
        if (score != o.score)
            return score < o.score;
        return start > o.start;
    }
};

} // namespace

std::vector<std::int32_t> scoredBpeEncode(const ScoredVocab &vocab, std::string_view text, const std::string &file)
{
    std::vector<Symbol> syms;
    syms.reserve(text.size());
    auto pushSymbol = [&](std::size_t start, std::size_t len, std::int32_t id, bool mergeable) {
        const auto idx = static_cast<std::int32_t>(syms.size());
        syms.push_back(
            {static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(len), idx - 1, idx + 1, id, mergeable});
    };
    for (std::size_t i = 0; i < text.size();) {
        const Utf8Step st = decodeUtf8(text, i);
        const std::size_t len = st.valid ? st.len : 1;
        auto it = vocab.ids.find(text.substr(i, len));
        if (st.valid && it != vocab.ids.end()) {
            pushSymbol(i, len, it->second, true);
        } else {
            for (std::size_t k = 0; k < len; ++k) {
                const auto byte = static_cast<unsigned char>(text[i + k]);
                std::int32_t id = vocab.byteIds[byte];
                if (id < 0)
                    id = vocab.unkId;
                if (id < 0) {
                    char hex[8];
                    std::snprintf(hex, sizeof hex, "0x%02X", byte);
                    throw FormatError(file, FormatError::NoOffset, "vocabulary",
                        std::string("byte ") + hex + " has no token and there is no unknown token");
                }
                pushSymbol(i + k, 1, id, false);
            }
        }
        i += len;
    }
    if (syms.empty())
        return {};
    syms.back().next = -1;

    std::priority_queue<Candidate> queue;
    auto consider = [&](std::int32_t left, std::int32_t right) {
        if (left < 0 || right < 0)
            return;
        const Symbol &a = syms[left];
        const Symbol &b = syms[right];
        if (!a.mergeable || !b.mergeable)
            return;
        const std::size_t len = std::size_t(a.len) + b.len;
        if (len > vocab.maxPieceBytes)
            return;
        auto it = vocab.ids.find(text.substr(a.start, len));
        if (it == vocab.ids.end())
            return;
        queue.push({vocab.scores[it->second], a.start, left, right, static_cast<std::uint32_t>(len), it->second});
    };
    for (std::size_t i = 0; i + 1 < syms.size(); ++i)
        consider(static_cast<std::int32_t>(i), static_cast<std::int32_t>(i + 1));

    while (!queue.empty()) {
        const Candidate c = queue.top();
        queue.pop();
        Symbol &a = syms[c.left];
        if (a.len == 0 || a.next != c.right)
            continue;
        Symbol &b = syms[c.right];
        if (b.len == 0 || a.len + b.len != c.len)
            continue;
        a.len = c.len;
        a.id = c.id;
        a.next = b.next;
        if (b.next >= 0)
            syms[b.next].prev = c.left;
        b.len = 0;
        consider(a.prev, c.left);
        consider(c.left, a.next);
    }

    std::vector<std::int32_t> out;
    for (std::int32_t i = 0; i >= 0; i = syms[i].next)
        out.push_back(syms[i].id);
    return out;
}

} // namespace blockscope
