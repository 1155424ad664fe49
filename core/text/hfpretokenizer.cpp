// tokenizer.json pre-tokenizers: Metaspace, ByteLevel, Split, Digits, Punctuation and Sequence.
#include "bytelevel.h"
#include "common/formaterror.h"
#include "hfcomponents.h"
#include "pcreregex.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace blockscope {

namespace {

const char *const gpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// Rust's char::is_numeric (Unicode Nd, Nl and No), which Hugging Face's Digits splits on.
const char *const digitPattern = R"(\p{N})";
// Hugging Face's is_punc: ASCII punctuation (which includes the symbols $+<=>^`|~) or a Unicode P*.
const char *const punctuationPattern = R"([\p{P}!-/:-@\[-`{-~])";

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext };

Behavior behaviorNamed(
    const std::string &name, const char *component, const std::string &file, const std::string &where)
{
    if (name == "Isolated")
        return Behavior::Isolated;
    if (name == "Removed")
        return Behavior::Removed;
    if (name == "MergedWithPrevious")
        return Behavior::MergedWithPrevious;
    if (name == "MergedWithNext")
        return Behavior::MergedWithNext;
    throw FormatError(
        file, FormatError::NoOffset, where, "unsupported " + std::string(component) + " behavior \"" + name + "\"");
}

// Splits one piece at the matches of `regex` (or `literal`), keeping the parts as `behavior` says
// (Hugging Face's NormalizedString::split); `invert` swaps matches and gaps.
void splitPiece(const HfPiece &piece, const PcreRegex *regex, const std::string &literal, Behavior behavior,
    bool invert, std::vector<HfPiece> &out)
{
    struct Part
    {
        std::size_t start, end;
        bool match;
    };
    std::vector<Part> parts;
    std::size_t prev = 0;
    auto onMatch = [&](std::size_t s, std::size_t e) {
        if (s > prev)
            parts.push_back({prev, s, false});
        parts.push_back({s, e, true});
        prev = e;
    };
    const std::string &t = piece.text;
    if (regex) {
        regex->forEachMatch(t, onMatch);
    } else if (!literal.empty()) {
        for (auto pos = t.find(literal); pos != std::string::npos; pos = t.find(literal, pos + literal.size()))
            onMatch(pos, pos + literal.size());
    }
    if (prev < t.size())
        parts.push_back({prev, t.size(), false});
    if (invert)
        for (auto &p : parts)
            p.match = !p.match;

    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    switch (behavior) {
    case Behavior::Removed:
        for (const auto &p : parts)
            if (!p.match)
                ranges.push_back({p.start, p.end});
        break;
    case Behavior::Isolated:
        for (const auto &p : parts)
            ranges.push_back({p.start, p.end});
        break;
    case Behavior::MergedWithPrevious: {
        // A match joins the part before it, unless that part was a match too (Hugging Face's fold).
        bool previousMatch = false;
        for (const auto &p : parts) {
            if (p.match && !previousMatch && !ranges.empty())
                ranges.back().second = p.end;
            else
                ranges.push_back({p.start, p.end});
            previousMatch = p.match;
        }
        break;
    }
    case Behavior::MergedWithNext: {
        // The mirror image, folded from the right.
        bool previousMatch = false;
        for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
            if (it->match && !previousMatch && !ranges.empty())
                ranges.back().first = it->start;
            else
                ranges.push_back({it->start, it->end});
            previousMatch = it->match;
        }
        std::reverse(ranges.begin(), ranges.end());
        break;
    }
    }
    for (const auto &[s, e] : ranges)
        if (e > s)
            out.push_back({t.substr(s, e - s), -1, piece.atStart && s == 0});
}

// Applies `fn` to every piece without a token, keeping tokens where they are.
template<typename Fn>
void eachTextPiece(std::vector<HfPiece> &pieces, Fn fn)
{
    std::vector<HfPiece> out;
    out.reserve(pieces.size());
    for (auto &p : pieces) {
        if (p.token >= 0)
            out.push_back(std::move(p));
        else if (!p.text.empty())
            fn(p, out);
    }
    pieces = std::move(out);
}

class SequencePreTokenizer : public HfPreTokenizer
{
public:
    std::vector<std::unique_ptr<HfPreTokenizer>> parts;
    void split(std::vector<HfPiece> &pieces) const override
    {
        for (const auto &p : parts)
            p->split(pieces);
    }
};

class SplitPreTokenizer : public HfPreTokenizer
{
public:
    std::unique_ptr<PcreRegex> regex;
    std::string literal;
    Behavior behavior = Behavior::Isolated;
    bool invert = false;
    void split(std::vector<HfPiece> &pieces) const override
    {
        eachTextPiece(pieces,
            [&](HfPiece &p, std::vector<HfPiece> &out) { splitPiece(p, regex.get(), literal, behavior, invert, out); });
    }
};

class ByteLevelPreTokenizer : public HfPreTokenizer
{
public:
    bool addPrefixSpace = false;
    std::unique_ptr<PcreRegex> regex; // GPT-2's, when use_regex
    void split(std::vector<HfPiece> &pieces) const override
    {
        eachTextPiece(pieces, [&](HfPiece &p, std::vector<HfPiece> &out) {
            if (addPrefixSpace && p.text.front() != ' ')
                p.text.insert(0, " ");
            const std::size_t first = out.size();
            if (regex)
                splitPiece(p, regex.get(), {}, Behavior::Isolated, false, out);
            else
                out.push_back(std::move(p));
            for (std::size_t k = first; k < out.size(); ++k)
                out[k].text = byteLevelEncode(out[k].text);
        });
    }
};

class MetaspacePreTokenizer : public HfPreTokenizer
{
public:
    std::string replacement;
    enum class Prepend { Always, First, Never } prepend = Prepend::Always;
    bool splitOnReplacement = true;
    void split(std::vector<HfPiece> &pieces) const override
    {
        eachTextPiece(pieces, [&](HfPiece &p, std::vector<HfPiece> &out) {
            std::string text;
            text.reserve(p.text.size() + replacement.size());
            for (const char c : p.text) {
                if (c == ' ')
                    text += replacement;
                else
                    text += c;
            }
            const bool starts = text.compare(0, replacement.size(), replacement) == 0;
            if (!starts && (prepend == Prepend::Always || (prepend == Prepend::First && p.atStart)))
                text.insert(0, replacement);
            HfPiece piece{std::move(text), -1, p.atStart};
            if (splitOnReplacement)
                splitPiece(piece, nullptr, replacement, Behavior::MergedWithNext, false, out);
            else
                out.push_back(std::move(piece));
        });
    }
};

} // namespace

std::unique_ptr<HfPreTokenizer> makeHfPreTokenizer(const nlohmann::json &j, const std::string &file)
{
    if (j.is_null())
        return nullptr;
    const std::string where = "pre_tokenizer";
    const std::string type = hfjson::type(j, file, where);
    if (type == "Sequence")
        return hfjson::makeSequence<SequencePreTokenizer>(j, "pretokenizers", file, where, makeHfPreTokenizer);
    if (type == "Split") {
        auto s = std::make_unique<SplitPreTokenizer>();
        const auto [pattern, isRegex] = hfjson::pattern(j, file, where);
        if (isRegex)
            s->regex = std::make_unique<PcreRegex>(pattern, file, "pre_tokenizer Split pattern");
        else
            s->literal = pattern;
        s->behavior = behaviorNamed(hfjson::string(j, "behavior", file, where), "Split", file, where);
        s->invert = hfjson::boolean(j, "invert", false, file, where);
        return s;
    }
    if (type == "Digits") {
        // Each digit alone, or runs of digits (Hugging Face's Contiguous behaviour).
        auto s = std::make_unique<SplitPreTokenizer>();
        const bool individual = hfjson::boolean(j, "individual_digits", false, file, where);
        s->regex = std::make_unique<PcreRegex>(
            std::string(digitPattern) + (individual ? "" : "+"), file, "pre_tokenizer Digits");
        return s;
    }
    if (type == "Punctuation") {
        auto s = std::make_unique<SplitPreTokenizer>();
        std::string behavior = "Isolated";
        if (j.contains("behavior") && !j.at("behavior").is_null())
            behavior = hfjson::string(j, "behavior", file, where);
        // Contiguous joins neighbouring punctuation into one piece: a run of the class, isolated.
        const bool contiguous = behavior == "Contiguous";
        s->behavior = contiguous ? Behavior::Isolated : behaviorNamed(behavior, "Punctuation", file, where);
        s->regex = std::make_unique<PcreRegex>(
            std::string(punctuationPattern) + (contiguous ? "+" : ""), file, "pre_tokenizer Punctuation");
        return s;
    }
    if (type == "ByteLevel") {
        auto b = std::make_unique<ByteLevelPreTokenizer>();
        b->addPrefixSpace = hfjson::boolean(j, "add_prefix_space", true, file, where);
        if (hfjson::boolean(j, "use_regex", true, file, where))
            b->regex = std::make_unique<PcreRegex>(gpt2Pattern, file, "pre_tokenizer ByteLevel");
        return b;
    }
    if (type == "Metaspace") {
        auto m = std::make_unique<MetaspacePreTokenizer>();
        m->replacement = hfjson::string(j, "replacement", file, where);
        if (m->replacement.empty())
            throw FormatError(file, FormatError::NoOffset, where, "Metaspace replacement is empty");
        if (j.contains("prepend_scheme") && !j.at("prepend_scheme").is_null()) {
            const std::string scheme = hfjson::string(j, "prepend_scheme", file, where);
            if (scheme == "always")
                m->prepend = MetaspacePreTokenizer::Prepend::Always;
            else if (scheme == "first")
                m->prepend = MetaspacePreTokenizer::Prepend::First;
            else if (scheme == "never")
                m->prepend = MetaspacePreTokenizer::Prepend::Never;
            else
                throw FormatError(file, FormatError::NoOffset, where, "unknown prepend_scheme \"" + scheme + "\"");
        } else {
            // Files older than prepend_scheme say add_prefix_space instead.
            m->prepend = hfjson::boolean(j, "add_prefix_space", true, file, where)
                ? MetaspacePreTokenizer::Prepend::Always
                : MetaspacePreTokenizer::Prepend::Never;
        }
        m->splitOnReplacement = hfjson::boolean(j, "split", true, file, where);
        return m;
    }
    hfjson::unsupported(file, where, type);
}

} // namespace blockscope
