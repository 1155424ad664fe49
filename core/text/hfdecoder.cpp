// tokenizer.json decoders and post-processors.
#include "bytelevel.h"
#include "common/formaterror.h"
#include "hfcomponents.h"
#include "unicodetext.h"

#include <nlohmann/json.hpp>

namespace blockscope {

namespace {

const std::string replacementChar = "\xEF\xBF\xBD";

class SequenceDecoder : public HfDecoder
{
public:
    std::vector<std::unique_ptr<HfDecoder>> parts;
    void decode(std::vector<std::string> &tokens) const override
    {
        for (const auto &p : parts)
            p->decode(tokens);
    }
};

class ReplaceDecoder : public HfDecoder
{
public:
    std::string from, to;
    void decode(std::vector<std::string> &tokens) const override
    {
        if (from.empty())
            return;
        for (auto &t : tokens) {
            std::string out;
            std::size_t last = 0;
            for (auto pos = t.find(from); pos != std::string::npos; pos = t.find(from, last)) {
                out.append(t, last, pos - last);
                out += to;
                last = pos + from.size();
            }
            out.append(t, last, std::string::npos);
            t = std::move(out);
        }
    }
};

// Runs of <0xHH> tokens become their bytes when those form valid UTF-8, else one U+FFFD per byte
// (Hugging Face's ByteFallback: decoded text is always valid UTF-8).
class ByteFallbackDecoder : public HfDecoder
{
public:
    void decode(std::vector<std::string> &tokens) const override
    {
        std::vector<std::string> out;
        std::string bytes;
        std::size_t count = 0;
        auto flush = [&] {
            if (count == 0)
                return;
            if (replaceInvalidUtf8(bytes) == bytes)
                out.push_back(bytes);
            else
                for (std::size_t k = 0; k < count; ++k)
                    out.push_back(replacementChar);
            bytes.clear();
            count = 0;
        };
        for (auto &t : tokens) {
            if (const auto b = parseByteToken(t)) {
                bytes += static_cast<char>(*b);
                ++count;
                continue;
            }
            flush();
            out.push_back(std::move(t));
        }
        flush();
        tokens = std::move(out);
    }
};

class FuseDecoder : public HfDecoder
{
public:
    void decode(std::vector<std::string> &tokens) const override
    {
        std::string all;
        for (const auto &t : tokens)
            all += t;
        tokens.assign(1, std::move(all));
    }
};

// Strips up to `start` leading and `stop` trailing copies of one character from every token.
class StripDecoder : public HfDecoder
{
public:
    std::string content;
    std::size_t start = 0, stop = 0;
    void decode(std::vector<std::string> &tokens) const override
    {
        for (auto &t : tokens) {
            std::size_t b = 0, e = t.size();
            for (std::size_t k = 0; k < start && t.compare(b, content.size(), content) == 0 && b < e; ++k)
                b += content.size();
            for (std::size_t k = 0;
                 k < stop && e >= b + content.size() && t.compare(e - content.size(), content.size(), content) == 0;
                 ++k)
                e -= content.size();
            t = t.substr(b, e - b);
        }
    }
};

// Maps the byte-level code points back to bytes over the whole sequence, then repairs invalid
// UTF-8 with U+FFFD as Hugging Face's from_utf8_lossy does.
class ByteLevelDecoder : public HfDecoder
{
public:
    void decode(std::vector<std::string> &tokens) const override
    {
        std::string bytes;
        for (const auto &t : tokens)
            if (!byteLevelDecode(t, bytes))
                bytes += t;
        tokens.assign(1, replaceInvalidUtf8(bytes));
    }
};

class MetaspaceDecoder : public HfDecoder
{
public:
    std::string replacement;
    bool prepends = true;
    void decode(std::vector<std::string> &tokens) const override
    {
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            // Hugging Face drops every marker of the first token, not only a leading one.
            const std::string with = (i == 0 && prepends) ? std::string() : std::string(" ");
            std::string out;
            const std::string &t = tokens[i];
            for (std::size_t k = 0; k < t.size();) {
                if (t.compare(k, replacement.size(), replacement) == 0) {
                    out += with;
                    k += replacement.size();
                } else {
                    out += t[k++];
                }
            }
            tokens[i] = std::move(out);
        }
    }
};

std::size_t count(const nlohmann::json &j, const char *key, const std::string &file)
{
    const auto &v = hfjson::member(j, key, file, "decoder");
    if (!hfjson::isIndex(v))
        throw FormatError(file, FormatError::NoOffset, "decoder", std::string("\"") + key + "\" must be a count");
    return v.get<std::size_t>();
}

} // namespace

std::unique_ptr<HfDecoder> makeHfDecoder(const nlohmann::json &j, const std::string &file)
{
    if (j.is_null())
        return nullptr;
    const std::string where = "decoder";
    const std::string type = hfjson::type(j, file, where);
    if (type == "Sequence")
        return hfjson::makeSequence<SequenceDecoder>(j, "decoders", file, where, makeHfDecoder);
    if (type == "ByteFallback")
        return std::make_unique<ByteFallbackDecoder>();
    if (type == "Fuse")
        return std::make_unique<FuseDecoder>();
    if (type == "Replace") {
        auto r = std::make_unique<ReplaceDecoder>();
        const auto [pattern, isRegex] = hfjson::pattern(j, file, where);
        if (isRegex)
            throw FormatError(file, FormatError::NoOffset, where, "Replace decoders with a regex are not supported");
        r->from = pattern;
        r->to = hfjson::string(j, "content", file, where);
        return r;
    }
    if (type == "Strip") {
        auto s = std::make_unique<StripDecoder>();
        s->content = hfjson::string(j, "content", file, where);
        if (s->content.empty())
            throw FormatError(file, FormatError::NoOffset, where, "Strip content is empty");
        s->start = count(j, "start", file);
        s->stop = count(j, "stop", file);
        return s;
    }
    if (type == "ByteLevel")
        return std::make_unique<ByteLevelDecoder>();
    if (type == "Metaspace") {
        auto m = std::make_unique<MetaspaceDecoder>();
        m->replacement = hfjson::string(j, "replacement", file, where);
        if (m->replacement.empty())
            throw FormatError(file, FormatError::NoOffset, where, "Metaspace replacement is empty");
        if (j.contains("prepend_scheme") && j.at("prepend_scheme").is_string())
            m->prepends = j.at("prepend_scheme").get<std::string>() != "never";
        else
            m->prepends = hfjson::boolean(j, "add_prefix_space", true, file, where);
        return m;
    }
    hfjson::unsupported(file, where, type);
}

namespace {
void readTemplate(const nlohmann::json &j, const std::string &file, HfPostProcessor &out)
{
    const std::string where = "post_processor";
    const auto &single = hfjson::member(j, "single", file, where);
    const auto &specials = j.contains("special_tokens") ? j.at("special_tokens") : nlohmann::json::object();
    if (!single.is_array() || !specials.is_object())
        throw FormatError(file, FormatError::NoOffset, where, "TemplateProcessing needs a \"single\" array");
    bool seenSequence = false;
    for (const auto &item : single) {
        if (item.is_object() && item.contains("Sequence")) {
            seenSequence = true;
            continue;
        }
        if (!item.is_object() || !item.contains("SpecialToken") || !item.at("SpecialToken").is_object())
            throw FormatError(file, FormatError::NoOffset, where, "template items must be Sequence or SpecialToken");
        const std::string name = hfjson::string(item.at("SpecialToken"), "id", file, where);
        if (!specials.contains(name))
            throw FormatError(file, FormatError::NoOffset, where, "template token \"" + name + "\" is not defined");
        const auto &ids = hfjson::member(specials.at(name), "ids", file, where);
        if (!ids.is_array())
            throw FormatError(file, FormatError::NoOffset, where, "\"ids\" of \"" + name + "\" must be an array");
        for (const auto &id : ids) {
            if (!hfjson::isIndex(id))
                throw FormatError(file, FormatError::NoOffset, where, "ids of \"" + name + "\" must be token ids");
            (seenSequence ? out.suffix : out.prefix).push_back(static_cast<std::int32_t>(id.get<std::int64_t>()));
        }
    }
}
} // namespace

HfPostProcessor readHfPostProcessor(const nlohmann::json &j, const std::string &file)
{
    HfPostProcessor out;
    if (j.is_null())
        return out;
    const std::string where = "post_processor";
    const std::string type = hfjson::type(j, file, where);
    if (type == "TemplateProcessing") {
        readTemplate(j, file, out);
    } else if (type == "Sequence") {
        const auto &list = hfjson::member(j, "processors", file, where);
        if (!list.is_array())
            throw FormatError(file, FormatError::NoOffset, where, "\"processors\" must be an array");
        for (const auto &p : list) {
            const auto part = readHfPostProcessor(p, file);
            out.prefix.insert(out.prefix.end(), part.prefix.begin(), part.prefix.end());
            out.suffix.insert(out.suffix.end(), part.suffix.begin(), part.suffix.end());
        }
    } else if (type != "ByteLevel") { // ByteLevel only trims offsets
        hfjson::unsupported(file, where, type);
    }
    return out;
}

} // namespace blockscope
