#include "hfbpemodel.h"

#include "common/formaterror.h"
#include "hfcomponents.h"
#include "unicodetext.h"

#include <nlohmann/json.hpp>

#include <queue>

namespace blockscope {

namespace {
std::uint64_t pairKey(std::int32_t a, std::int32_t b)
{
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
}

std::string optionalString(const nlohmann::json &m, const char *key, const std::string &file)
{
    if (!m.contains(key) || m.at(key).is_null())
        return {};
    return hfjson::string(m, key, file, "model");
}
} // namespace

HfBpeModel::HfBpeModel(const nlohmann::json &m, const std::string &file, std::int64_t idLimit)
    : m_file(file)
{
    const std::string where = "model";
    if (!m.is_object())
        throw FormatError(file, FormatError::NoOffset, where, "must be an object");
    if (m.contains("type") && !(m.at("type").is_string() && m.at("type").get<std::string>() == "BPE"))
        hfjson::unsupported(file, where, m.at("type").is_string() ? m.at("type").get<std::string>() : "(not a string)");
    if (m.contains("dropout") && !m.at("dropout").is_null()
        && !(m.at("dropout").is_number() && m.at("dropout").get<double>() == 0.0))
        throw FormatError(file, FormatError::NoOffset, "model.dropout", "BPE dropout must be null or 0");
    m_fuseUnk = hfjson::boolean(m, "fuse_unk", false, file, where);
    m_byteFallback = hfjson::boolean(m, "byte_fallback", false, file, where);
    m_ignoreMerges = hfjson::boolean(m, "ignore_merges", false, file, where);
    m_prefix = optionalString(m, "continuing_subword_prefix", file);
    m_suffix = optionalString(m, "end_of_word_suffix", file);

    const auto &vocab = hfjson::member(m, "vocab", file, where);
    if (!vocab.is_object())
        throw FormatError(file, FormatError::NoOffset, "model.vocab", "must be an object of token: id");
    for (const auto &[token, idValue] : vocab.items()) {
        if (!idValue.is_number_integer() || idValue.get<std::int64_t>() < 0 || idValue.get<std::int64_t>() >= idLimit)
            throw FormatError(file, FormatError::NoOffset, "model.vocab",
                "id of \"" + token + "\" must be an integer in 0.." + std::to_string(idLimit - 1));
        const auto id = static_cast<std::int32_t>(idValue.get<std::int64_t>());
        if (static_cast<std::size_t>(id) >= m_tokens.size()) {
            m_tokens.resize(id + 1);
            m_hasToken.resize(id + 1);
        }
        if (m_hasToken[id])
            throw FormatError(file, FormatError::NoOffset, "model.vocab",
                "id " + std::to_string(id) + " is given to both \"" + m_tokens[id] + "\" and \"" + token + "\"");
        m_tokens[id] = token;
        m_hasToken[id] = true;
        m_vocab.emplace(token, id);
    }
    for (int b = 0; b < 256; ++b)
        m_byteTokens[b] = idOf(byteTokenName(static_cast<unsigned char>(b))).value_or(-1);
    if (m.contains("unk_token") && !m.at("unk_token").is_null()) {
        const std::string unk = hfjson::string(m, "unk_token", file, where);
        m_unk = idOf(unk);
        if (!m_unk)
            throw FormatError(
                file, FormatError::NoOffset, "model.unk_token", "\"" + unk + "\" is not in the vocabulary");
    }

    const auto &merges = hfjson::member(m, "merges", file, where);
    if (!merges.is_array())
        throw FormatError(file, FormatError::NoOffset, "model.merges", "must be an array");
    m_merges.reserve(merges.size());
    std::uint32_t rank = 0;
    for (const auto &entry : merges) {
        std::string a, b;
        const std::string field = "model.merges[" + std::to_string(rank) + "]";
        if (entry.is_string()) {
            const std::string s = entry.get<std::string>();
            const auto space = s.find(' ');
            if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
                throw FormatError(file, FormatError::NoOffset, field, "\"" + s + "\" is not exactly two symbols");
            a = s.substr(0, space);
            b = s.substr(space + 1);
        } else if (entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[1].is_string()) {
            a = entry[0].get<std::string>();
            b = entry[1].get<std::string>();
        } else {
            throw FormatError(file, FormatError::NoOffset, field, "must be \"a b\" or [\"a\", \"b\"]");
        }
        const auto ia = idOf(a), ib = idOf(b);
        if (!ia || !ib)
            throw FormatError(file, FormatError::NoOffset, field,
                "refers to \"" + (ia ? b : a) + "\", which is not in the vocabulary");
        if (!m_prefix.empty() && b.compare(0, m_prefix.size(), m_prefix) != 0)
            throw FormatError(file, FormatError::NoOffset, field, "\"" + b + "\" lacks the continuing-subword prefix");
        const std::string joined = a + b.substr(m_prefix.size());
        const auto result = idOf(joined);
        if (!result)
            throw FormatError(file, FormatError::NoOffset, field, "result \"" + joined + "\" is not in the vocabulary");
        // A repeated pair keeps its last rank, as Hugging Face's map insertion does.
        m_merges[pairKey(*ia, *ib)] = {rank, *result};
        ++rank;
    }
}

std::optional<std::int32_t> HfBpeModel::idOf(std::string_view token) const
{
    auto it = m_vocab.find(token);
    return it == m_vocab.end() ? std::nullopt : std::optional<std::int32_t>(it->second);
}

const std::string *HfBpeModel::tokenOf(std::int32_t id) const
{
    if (id < 0 || static_cast<std::size_t>(id) >= m_tokens.size() || !m_hasToken[id])
        return nullptr;
    return &m_tokens[id];
}

void HfBpeModel::encodePiece(std::string_view piece, std::vector<std::int32_t> &out,
    std::unordered_map<std::string, std::vector<std::int32_t>> &cache) const
{
    if (m_ignoreMerges) {
        if (const auto id = idOf(piece)) {
            out.push_back(*id);
            return;
        }
    }
    auto it = cache.find(std::string(piece));
    if (it == cache.end()) {
        std::vector<std::int32_t> ids;
        mergeWord(piece, ids);
        it = cache.emplace(std::string(piece), std::move(ids)).first;
    }
    out.insert(out.end(), it->second.begin(), it->second.end());
}

void HfBpeModel::mergeWord(std::string_view w, std::vector<std::int32_t> &out) const
{
    struct Symbol
    {
        std::int32_t id;
        std::int32_t prev, next;
        bool alive;
    };
    std::vector<Symbol> syms;
    auto add = [&](std::int32_t id) {
        const auto i = static_cast<std::int32_t>(syms.size());
        syms.push_back({id, i - 1, i + 1, true});
    };
    std::int32_t pendingUnk = -1; // an unk not yet emitted, so that runs can fuse
    for (std::size_t i = 0; i < w.size();) {
        const Utf8Step st = decodeUtf8(w, i);
        const std::size_t len = st.len;
        std::string s;
        if (i > 0)
            s += m_prefix;
        s += w.substr(i, len);
        if (i + len >= w.size())
            s += m_suffix;
        i += len;
        if (const auto id = idOf(s)) {
            if (pendingUnk >= 0)
                add(pendingUnk);
            pendingUnk = -1;
            add(*id);
            continue;
        }
        if (m_byteFallback) {
            bool all = true;
            for (const char c : s)
                all = all && m_byteTokens[static_cast<unsigned char>(c)] >= 0;
            if (all) {
                // Hugging Face flushes a pending unk only when a vocabulary symbol follows.
                for (const char c : s)
                    add(m_byteTokens[static_cast<unsigned char>(c)]);
                continue;
            }
        }
        if (m_unk) {
            if (pendingUnk >= 0 && !m_fuseUnk)
                add(pendingUnk);
            pendingUnk = *m_unk;
        }
        // Without an unk token Hugging Face drops the character; so do we.
    }
    if (pendingUnk >= 0)
        add(pendingUnk);
    if (syms.empty())
        return;
    syms.back().next = -1;

    struct Merge
    {
        std::uint32_t rank;
        std::int32_t pos;
        std::int32_t result;
        bool operator<(const Merge &o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::priority_queue<Merge> queue;
    auto consider = [&](std::int32_t left) {
        if (left < 0 || syms[left].next < 0)
            return;
        auto it = m_merges.find(pairKey(syms[left].id, syms[syms[left].next].id));
        if (it != m_merges.end())
            queue.push({it->second.first, left, it->second.second});
    };
    for (std::int32_t i = 0; i + 1 < static_cast<std::int32_t>(syms.size()); ++i)
        consider(i);
    while (!queue.empty()) {
        const Merge top = queue.top();
        queue.pop();
        Symbol &a = syms[top.pos];
        if (!a.alive || a.next < 0)
            continue;
        Symbol &b = syms[a.next];
        auto it = m_merges.find(pairKey(a.id, b.id));
        if (it == m_merges.end() || it->second.second != top.result)
            continue;
        a.id = top.result;
        b.alive = false;
        a.next = b.next;
        if (b.next >= 0)
            syms[b.next].prev = top.pos;
        consider(a.prev);
        consider(top.pos);
    }
    for (const auto &s : syms)
        if (s.alive)
            out.push_back(s.id);
}

} // namespace blockscope
