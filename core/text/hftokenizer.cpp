#include "hftokenizer.h"

#include "common/formaterror.h"
#include "common/limits.h"
#include "common/mappedfile.h"
#include "common/strictjson.h"
#include "common/utf8.h"
#include "hfaddedtokens.h"
#include "hfbpemodel.h"
#include "hfcomponents.h"
#include "log/logging.h"
#include "unicodetext.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace blockscope {

HfTokenizer::HfTokenizer() = default;
HfTokenizer::~HfTokenizer() = default;

std::unique_ptr<HfTokenizer> HfTokenizer::load(const std::string &path)
{
    auto file = MappedFile::open(path);
    if (file->size() > defaultCaps().maxTokenizerFileBytes)
        throw FormatError(path, FormatError::NoOffset, "",
            "tokenizer.json of " + std::to_string(file->size()) + " bytes exceeds the 64 MiB cap");
    const std::string_view text(reinterpret_cast<const char *>(file->data()), file->size());
    return fromJson(parseStrictJson(text, path, "tokenizer.json"), path);
}

namespace {
std::vector<HfAddedToken> readAddedTokens(const nlohmann::json &doc, const std::string &file)
{
    std::vector<HfAddedToken> out;
    if (!doc.contains("added_tokens") || doc.at("added_tokens").is_null())
        return out;
    const auto &list = doc.at("added_tokens");
    if (!list.is_array())
        throw FormatError(file, FormatError::NoOffset, "added_tokens", "must be an array");
    for (const auto &t : list) {
        const std::string where = "added_tokens[" + std::to_string(out.size()) + "]";
        const auto &id = hfjson::member(t, "id", file, where);
        if (!hfjson::isIndex(id))
            throw FormatError(file, FormatError::NoOffset, where, "\"id\" must be a non-negative token id");
        HfAddedToken a;
        a.id = static_cast<std::int32_t>(id.get<std::int64_t>());
        a.content = hfjson::string(t, "content", file, where);
        a.singleWord = hfjson::boolean(t, "single_word", false, file, where);
        a.lstrip = hfjson::boolean(t, "lstrip", false, file, where);
        a.rstrip = hfjson::boolean(t, "rstrip", false, file, where);
        a.special = hfjson::boolean(t, "special", false, file, where);
        a.normalized = hfjson::boolean(t, "normalized", !a.special, file, where);
        out.push_back(std::move(a));
    }
    return out;
}

std::optional<std::int32_t> firstKnown(const HfTokenizer &t, std::initializer_list<const char *> names)
{
    for (const char *n : names)
        if (auto id = t.tokenId(n))
            return id;
    return std::nullopt;
}
} // namespace

std::unique_ptr<HfTokenizer> HfTokenizer::fromJson(
    const nlohmann::json &doc, const std::string &file, const std::string &kind)
{
    if (!doc.is_object())
        throw FormatError(file, FormatError::NoOffset, "", "a tokenizer.json must be a JSON object");
    std::unique_ptr<HfTokenizer> t(new HfTokenizer);
    t->m_file = file;
    t->m_kind = kind;
    const auto added = readAddedTokens(doc, file);
    const auto &model = hfjson::member(doc, "model", file, "model");
    const auto &vocab = hfjson::member(model, "vocab", file, "model");
    const auto idLimit = static_cast<std::int64_t>(vocab.size() + added.size());
    if (idLimit > defaultCaps().maxVocab)
        throw FormatError(file, FormatError::NoOffset, "model.vocab",
            std::to_string(idLimit) + " tokens exceed the cap of " + std::to_string(defaultCaps().maxVocab));
    t->m_model = std::make_unique<HfBpeModel>(model, file, idLimit);

    auto member = [&](const char *key) -> nlohmann::json { return doc.contains(key) ? doc.at(key) : nlohmann::json(); };
    t->m_normalizer = makeHfNormalizer(member("normalizer"), file);
    t->m_preTokenizer = makeHfPreTokenizer(member("pre_tokenizer"), file);
    t->m_decoder = makeHfDecoder(member("decoder"), file);
    const HfPostProcessor post = readHfPostProcessor(member("post_processor"), file);
    for (const char *key : {"truncation", "padding"})
        if (!member(key).is_null())
            log::logger(log::Subsystem::Text)
                ->warn("{}: \"{}\" is set and ignored: Blockscope never truncates or pads", file, key);

    t->m_vocabSize = t->m_model->idEnd();
    for (const auto &a : added)
        if (a.id >= idLimit)
            throw FormatError(file, FormatError::NoOffset, "added_tokens",
                "id " + std::to_string(a.id) + " of \"" + a.content + "\" is past the " + std::to_string(idLimit)
                    + " ids that the vocabulary and added tokens allow");
    for (const auto &a : added)
        t->m_vocabSize = std::max<std::int64_t>(t->m_vocabSize, a.id + std::int64_t(1));
    t->m_addedContent.resize(t->m_vocabSize);
    t->m_special.resize(t->m_vocabSize);
    t->m_added = std::make_unique<HfAddedTokens>();
    std::vector<bool> seen(t->m_vocabSize);
    for (const auto &a : added) {
        const std::string *inModel = t->m_model->tokenOf(a.id);
        if ((inModel && *inModel != a.content) || (seen[a.id] && t->m_addedContent[a.id] != a.content))
            throw FormatError(file, FormatError::NoOffset, "added_tokens",
                "id " + std::to_string(a.id) + " is \"" + a.content + "\" here but \""
                    + (inModel ? *inModel : t->m_addedContent[a.id]) + "\" elsewhere");
        seen[a.id] = true;
        t->m_addedContent[a.id] = a.content;
        t->m_special[a.id] = a.special;
        std::string match = a.content;
        if (a.normalized && t->m_normalizer)
            t->m_normalizer->apply(match);
        t->m_added->add(a, std::move(match));
    }
    for (const auto id : post.prefix)
        if (id >= t->m_vocabSize)
            throw FormatError(file, FormatError::NoOffset, "post_processor",
                "token id " + std::to_string(id) + " is outside the vocabulary");
    t->m_postPrefix = post.prefix;
    t->m_bos = !post.prefix.empty() ? std::optional<std::int32_t>(post.prefix.front())
                                    : firstKnown(*t, {"<s>", "<|begin_of_text|>", "<bos>"});
    t->m_eos = firstKnown(*t, {"</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>"});
    t->m_addBos = !post.prefix.empty();
    return t;
}

void HfTokenizer::setSpecialIds(std::optional<std::int32_t> bos, std::optional<std::int32_t> eos)
{
    if (bos)
        m_bos = bos;
    if (eos)
        m_eos = eos;
    m_addBos = !m_postPrefix.empty() && m_bos && m_postPrefix.front() == *m_bos;
}

std::optional<std::int32_t> HfTokenizer::tokenId(std::string_view token) const
{
    for (std::size_t id = 0; id < m_addedContent.size(); ++id)
        if (!m_addedContent[id].empty() && m_addedContent[id] == token)
            return static_cast<std::int32_t>(id);
    return m_model->idOf(token);
}

std::vector<std::int32_t> HfTokenizer::encode(std::string_view text) const
{
    std::string repaired;
    if (const auto bad = firstInvalidUtf8(text)) {
        if (invalidUtf8() == InvalidUtf8::Error)
            throw FormatError("input text", *bad, "text",
                "is not valid UTF-8 (" + description()
                    + " needs valid text; ask for U+FFFD replacement to tokenize it anyway)");
        repaired = replaceInvalidUtf8(text);
        text = repaired;
    }
    if (text.empty())
        return {};
    std::vector<HfPiece> pieces{{std::string(text), -1, true}};
    if (!m_added->empty())
        m_added->split(pieces, false);
    if (m_normalizer)
        for (auto &p : pieces)
            if (p.token < 0)
                m_normalizer->apply(p.text);
    if (!m_added->empty())
        m_added->split(pieces, true);
    if (m_preTokenizer)
        m_preTokenizer->split(pieces);
    std::vector<std::int32_t> out;
    std::unordered_map<std::string, std::vector<std::int32_t>> cache;
    for (const auto &p : pieces) {
        if (p.token >= 0)
            out.push_back(p.token);
        else if (!p.text.empty())
            m_model->encodePiece(p.text, out, cache);
    }
    return out;
}

std::string HfTokenizer::decode(std::span<const std::int32_t> ids) const
{
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (const auto id : ids) {
        if (id < 0 || id >= m_vocabSize)
            throw UsageError(
                "token id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(m_vocabSize));
        if (!m_addedContent[id].empty()) {
            if (!m_special[id]) // special tokens are skipped, as Hugging Face's default decode does
                tokens.push_back(m_addedContent[id]);
        } else if (const std::string *t = m_model->tokenOf(id)) {
            tokens.push_back(*t);
        }
    }
    if (m_decoder)
        m_decoder->decode(tokens);
    std::string out;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        if (i > 0 && !m_decoder)
            out += ' ';
        out += tokens[i];
    }
    return out;
}

std::string HfTokenizer::description() const
{
    std::string d = "Hugging Face " + m_kind + " BPE (" + std::filesystem::path(m_file).filename().string() + ")";
    if (invalidUtf8() == InvalidUtf8::Replace)
        d += ", invalid UTF-8 replaced by U+FFFD";
    return d;
}

} // namespace blockscope
