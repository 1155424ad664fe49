// tokenizer.json normalizers and the JSON helpers shared by the component readers.
#include "common/formaterror.h"
#include "hfcomponents.h"
#include "pcreregex.h"
#include "unicodetext.h"

#include <nlohmann/json.hpp>

namespace blockscope {

namespace hfjson {

const nlohmann::json &member(
    const nlohmann::json &obj, const char *key, const std::string &file, const std::string &where)
{
    if (!obj.is_object() || !obj.contains(key))
        throw FormatError(file, FormatError::NoOffset, where, std::string("missing \"") + key + "\"");
    return obj.at(key);
}

std::string string(const nlohmann::json &obj, const char *key, const std::string &file, const std::string &where)
{
    const auto &v = member(obj, key, file, where);
    if (!v.is_string())
        throw FormatError(file, FormatError::NoOffset, where, std::string("\"") + key + "\" must be a string");
    return v.get<std::string>();
}

bool boolean(
    const nlohmann::json &obj, const char *key, bool fallback, const std::string &file, const std::string &where)
{
    if (!obj.contains(key) || obj.at(key).is_null())
        return fallback;
    if (!obj.at(key).is_boolean())
        throw FormatError(file, FormatError::NoOffset, where, std::string("\"") + key + "\" must be true or false");
    return obj.at(key).get<bool>();
}

std::string type(const nlohmann::json &obj, const std::string &file, const std::string &where)
{
    if (!obj.is_object())
        throw FormatError(file, FormatError::NoOffset, where, "must be an object or null");
    return string(obj, "type", file, where);
}

void unsupported(const std::string &file, const std::string &where, const std::string &type)
{
    throw FormatError(file, FormatError::NoOffset, where, "unsupported " + where + " type \"" + type + "\"");
}

bool isIndex(const nlohmann::json &v)
{
    if (v.is_number_unsigned())
        return v.get<std::uint64_t>() <= INT32_MAX;
    return v.is_number_integer() && v.get<std::int64_t>() >= 0 && v.get<std::int64_t>() <= INT32_MAX;
}

std::pair<std::string, bool> pattern(const nlohmann::json &obj, const std::string &file, const std::string &where)
{
    const auto &p = member(obj, "pattern", file, where);
    if (p.is_object() && p.size() == 1 && p.contains("String") && p.at("String").is_string())
        return {p.at("String").get<std::string>(), false};
    if (p.is_object() && p.size() == 1 && p.contains("Regex") && p.at("Regex").is_string())
        return {p.at("Regex").get<std::string>(), true};
    throw FormatError(file, FormatError::NoOffset, where, "\"pattern\" must be {\"String\": ...} or {\"Regex\": ...}");
}

} // namespace hfjson

namespace {

class SequenceNormalizer : public HfNormalizer
{
public:
    std::vector<std::unique_ptr<HfNormalizer>> parts;
    void apply(std::string &text) const override
    {
        for (const auto &p : parts)
            p->apply(text);
    }
};

class PrependNormalizer : public HfNormalizer
{
public:
    std::string prefix;
    void apply(std::string &text) const override
    {
        if (!text.empty())
            text.insert(0, prefix);
    }
};

// Replaces every match, left to right; a literal pattern is matched as bytes (it is valid UTF-8,
// so matches fall on character boundaries).
class ReplaceNormalizer : public HfNormalizer
{
public:
    std::string literal;
    std::unique_ptr<PcreRegex> regex;
    std::string content;
    void apply(std::string &text) const override
    {
        std::string out;
        std::size_t last = 0;
        auto onMatch = [&](std::size_t start, std::size_t end) {
            out.append(text, last, start - last);
            out += content;
            last = end;
        };
        if (regex) {
            regex->forEachMatch(text, onMatch);
        } else if (!literal.empty()) {
            for (auto pos = text.find(literal); pos != std::string::npos;
                 pos = text.find(literal, pos + literal.size()))
                onMatch(pos, pos + literal.size());
        }
        out.append(text, last, std::string::npos);
        text = std::move(out);
    }
};

class UnicodeNormalizer : public HfNormalizer
{
public:
    NormalForm form = NormalForm::Nfc;
    std::string file;
    void apply(std::string &text) const override { text = normalizeUnicode(text, form, file); }
};

class LowercaseNormalizer : public HfNormalizer
{
public:
    void apply(std::string &text) const override { text = lowercaseUnicode(text); }
};

class StripNormalizer : public HfNormalizer
{
public:
    bool left = true, right = true;
    void apply(std::string &text) const override
    {
        std::size_t begin = 0, end = text.size();
        while (left && begin < end) {
            const auto st = decodeUtf8(text, begin);
            if (!st.valid || !isUnicodeWhitespace(st.cp))
                break;
            begin += st.len;
        }
        while (right && end > begin) {
            std::size_t k = end - 1;
            while (k > begin && (static_cast<unsigned char>(text[k]) & 0xC0) == 0x80)
                --k;
            const auto st = decodeUtf8(text, k);
            if (!st.valid || !isUnicodeWhitespace(st.cp))
                break;
            end = k;
        }
        text = text.substr(begin, end - begin);
    }
};

} // namespace

std::unique_ptr<HfNormalizer> makeHfNormalizer(const nlohmann::json &j, const std::string &file)
{
    if (j.is_null())
        return nullptr;
    const std::string where = "normalizer";
    const std::string type = hfjson::type(j, file, where);
    if (type == "Sequence")
        return hfjson::makeSequence<SequenceNormalizer>(j, "normalizers", file, where, makeHfNormalizer);
    if (type == "Prepend") {
        auto p = std::make_unique<PrependNormalizer>();
        p->prefix = hfjson::string(j, "prepend", file, where);
        return p;
    }
    if (type == "Replace") {
        auto r = std::make_unique<ReplaceNormalizer>();
        const auto [pattern, isRegex] = hfjson::pattern(j, file, where);
        if (isRegex)
            r->regex = std::make_unique<PcreRegex>(pattern, file, "normalizer Replace pattern");
        else
            r->literal = pattern;
        r->content = hfjson::string(j, "content", file, where);
        return r;
    }
    if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
        auto u = std::make_unique<UnicodeNormalizer>();
        u->form = type == "NFC" ? NormalForm::Nfc
            : type == "NFD"     ? NormalForm::Nfd
            : type == "NFKC"    ? NormalForm::Nfkc
                                : NormalForm::Nfkd;
        u->file = file;
        return u;
    }
    if (type == "Lowercase")
        return std::make_unique<LowercaseNormalizer>();
    if (type == "Strip") {
        auto s = std::make_unique<StripNormalizer>();
        s->left = hfjson::boolean(j, "strip_left", true, file, where);
        s->right = hfjson::boolean(j, "strip_right", true, file, where);
        return s;
    }
    hfjson::unsupported(file, where, type);
}

} // namespace blockscope
