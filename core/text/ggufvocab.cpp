#include "ggufvocab.h"

#include "common/formaterror.h"
#include "common/utf8.h"
#include "hftokenizer.h"
#include "model/ggufmetadata.h"
#include "scoredbpe.h"
#include "sentencepiecetokenizer.h"
#include "unicodetext.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace blockscope {

extern const char *const builtInGgufPreTokenizersJson;

namespace {

const std::string spaceMarker = "\xE2\x96\x81"; // U+2581, SentencePiece's space

enum TokenType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

struct Arrays
{
    std::vector<std::string> tokens;
    std::vector<float> scores;
    std::vector<std::int32_t> types;
};

Arrays readArrays(const GgufMetadata &meta, const std::string &path, bool needScores)
{
    Arrays a;
    const auto *tokens = meta.find("tokenizer.ggml.tokens");
    if (!tokens || tokens->type != GgufType::Array || tokens->arrayType != GgufType::String)
        throw FormatError(path, FormatError::NoOffset, "tokenizer.ggml.tokens", "must be an array of strings");
    for (const auto &t : tokens->array)
        a.tokens.push_back(t.s);
    const auto n = a.tokens.size();
    if (n == 0)
        throw FormatError(path, FormatError::NoOffset, "tokenizer.ggml.tokens", "is empty");
    const auto *scores = meta.find("tokenizer.ggml.scores");
    if (scores) {
        if (scores->type != GgufType::Array || scores->arrayType != GgufType::F32 || scores->array.size() != n)
            throw FormatError(path, FormatError::NoOffset, "tokenizer.ggml.scores",
                "must be a float32 array with one score per token");
        for (const auto &s : scores->array) {
            if (!std::isfinite(s.f))
                throw FormatError(path, FormatError::NoOffset, "tokenizer.ggml.scores", "holds a non-finite score");
            a.scores.push_back(static_cast<float>(s.f));
        }
    } else if (needScores) {
        throw FormatError(path, FormatError::NoOffset, "tokenizer.ggml.scores", "required key is missing");
    }
    if (const auto *types = meta.find("tokenizer.ggml.token_type")) {
        if (types->type != GgufType::Array || types->arrayType != GgufType::I32 || types->array.size() != n)
            throw FormatError(path, FormatError::NoOffset, "tokenizer.ggml.token_type",
                "must be an int32 array with one type per token");
        for (const auto &t : types->array)
            a.types.push_back(static_cast<std::int32_t>(t.i));
    } else {
        a.types.assign(n, Normal);
    }
    return a;
}

std::optional<std::int32_t> tokenId(const GgufMetadata &meta, const char *key, std::size_t n, const std::string &path)
{
    const auto *v = meta.find(key);
    if (!v)
        return std::nullopt;
    const auto id = v->asInt();
    if (!id)
        throw FormatError(path, FormatError::NoOffset, key, "must be an integer");
    if (*id == 0xFFFFFFFF)
        return std::nullopt;
    if (*id < 0 || static_cast<std::uint64_t>(*id) >= n)
        throw FormatError(path, FormatError::NoOffset, key,
            "token id " + std::to_string(*id) + " is outside the vocabulary of " + std::to_string(n));
    return static_cast<std::int32_t>(*id);
}

bool flag(const GgufMetadata &meta, const char *key, bool fallback, const std::string &path)
{
    const auto *v = meta.find(key);
    if (!v)
        return fallback;
    if (v->type != GgufType::Bool)
        throw FormatError(path, FormatError::NoOffset, key, "must be a bool");
    return v->u != 0;
}

class GgufSpmTokenizer : public Tokenizer
{
public:
    ScoredVocab vocab;
    std::vector<std::int32_t> types;
    std::optional<std::int32_t> bos, eos;
    bool addBosFlag = true;
    bool spacePrefix = true;
    std::string path;

    std::vector<std::int32_t> encode(std::string_view text) const override
    {
        if (text.empty())
            return {};
        if (text.size() >= (std::size_t(1) << 30))
            throw FormatError(path, FormatError::NoOffset, "text", "texts of 1 GiB or more are not supported");
        std::string marked;
        marked.reserve(text.size() + 16);
        if (spacePrefix)
            marked += spaceMarker;
        for (const char c : text) {
            if (c == ' ')
                marked += spaceMarker;
            else
                marked += c;
        }
        return scoredBpeEncode(vocab, marked, path);
    }

    std::string decode(std::span<const std::int32_t> ids) const override
    {
        std::string out;
        for (const auto id : ids) {
            if (id < 0 || id >= static_cast<std::int32_t>(vocab.pieces.size()))
                throw UsageError("token id " + std::to_string(id) + " is outside the vocabulary of "
                    + std::to_string(vocab.pieces.size()));
            const auto type = types[id];
            if (type == Control || type == Unused)
                continue;
            if (type == Unknown) {
                out += " \xE2\x81\x87 "; // what libsentencepiece prints for <unk>
                continue;
            }
            if (type == Byte) {
                if (const auto b = parseByteToken(vocab.pieces[id])) {
                    out += static_cast<char>(*b);
                    continue;
                }
            }
            const std::string &p = vocab.pieces[id];
            for (std::size_t k = 0; k < p.size();) {
                if (p.compare(k, spaceMarker.size(), spaceMarker) == 0) {
                    out += ' ';
                    k += spaceMarker.size();
                } else {
                    out += p[k++];
                }
            }
        }
        if (spacePrefix && !out.empty() && out.front() == ' ')
            out.erase(0, 1);
        return out;
    }

    std::int64_t vocabSize() const override { return static_cast<std::int64_t>(vocab.pieces.size()); }
    std::optional<std::int32_t> bosId() const override { return bos; }
    std::optional<std::int32_t> eosId() const override { return eos; }
    bool addBos() const override { return addBosFlag && bos.has_value(); }
    std::string description() const override
    {
        return "GGUF embedded SentencePiece-style vocabulary (" + std::filesystem::path(path).filename().string() + ")";
    }
};

std::unique_ptr<Tokenizer> spmTokenizer(const GgufMetadata &meta, const std::string &path)
{
    Arrays a = readArrays(meta, path, true);
    auto t = std::make_unique<GgufSpmTokenizer>();
    t->path = path;
    const auto n = a.tokens.size();
    t->vocab.pieces = std::move(a.tokens);
    t->vocab.scores = std::move(a.scores);
    t->types = std::move(a.types);
    t->vocab.index();
    t->vocab.byteIds.fill(-1);
    for (std::size_t i = 0; i < n; ++i) {
        if (t->types[i] == Byte) {
            const auto b = parseByteToken(t->vocab.pieces[i]);
            if (!b)
                throw FormatError(path, FormatError::NoOffset, "tokenizer.ggml.tokens",
                    "byte token " + std::to_string(i) + " is not named <0xHH>");
            if (t->vocab.byteIds[*b] < 0)
                t->vocab.byteIds[*b] = static_cast<std::int32_t>(i);
        }
        if (t->types[i] == Unknown && t->vocab.unkId < 0)
            t->vocab.unkId = static_cast<std::int32_t>(i);
    }
    if (const auto unk = tokenId(meta, "tokenizer.ggml.unknown_token_id", n, path))
        t->vocab.unkId = *unk;
    t->bos = tokenId(meta, "tokenizer.ggml.bos_token_id", n, path);
    t->eos = tokenId(meta, "tokenizer.ggml.eos_token_id", n, path);
    t->addBosFlag = flag(meta, "tokenizer.ggml.add_bos_token", true, path);
    t->spacePrefix = flag(meta, "tokenizer.ggml.add_space_prefix", true, path);
    return t;
}

// The Hugging Face normaliser and pre-tokeniser of each llama.cpp pre-tokenizer name, from the
// table compiled in from resources/tokenizers/gguf-pre-tokenizers.json.
struct PreTokenizerEntry
{
    nlohmann::json normalizer;
    nlohmann::json preTokenizer;
    bool ignoreMerges = false;
};

const nlohmann::json &preTokenizerTable()
{
    static const nlohmann::json table = nlohmann::json::parse(builtInGgufPreTokenizersJson);
    return table;
}

PreTokenizerEntry preTokenizerFor(const std::string &pre, const std::string &path)
{
    // An absent or empty name is what llama.cpp calls "default"; it was written before the names
    // existed, for GPT-2 style vocabularies.
    const std::string name = pre.empty() ? "default" : pre;
    std::string known;
    for (const auto &e : preTokenizerTable().at("pre_tokenizers")) {
        for (const auto &n : e.at("names")) {
            known += (known.empty() ? "" : ", ") + n.get<std::string>();
            if (n.get<std::string>() == name)
                return {e.at("normalizer"), e.at("pre_tokenizer"), e.value("ignore_merges", false)};
        }
    }
    throw FormatError(path, FormatError::NoOffset, "tokenizer.ggml.pre",
        "unsupported pre-tokenizer \"" + pre + "\" (known: " + known + ")");
}

// The Hugging Face tokenizer.json of a "gpt2" vocabulary: byte-level BPE over its merges, with
// the normaliser and pre-tokeniser its pre-tokenizer name stands for.
nlohmann::json gpt2TokenizerJson(const GgufMetadata &meta, const std::string &path)
{
    const Arrays a = readArrays(meta, path, false);
    const auto n = a.tokens.size();
    nlohmann::json vocab = nlohmann::json::object();
    nlohmann::json added = nlohmann::json::array();
    for (std::size_t i = 0; i < n; ++i) {
        if (!isValidUtf8(a.tokens[i]))
            throw FormatError(path, FormatError::NoOffset, "tokenizer.ggml.tokens",
                "token " + std::to_string(i) + " is not valid UTF-8");
        vocab.emplace(a.tokens[i], i); // a repeated string keeps its first id
        if (a.types[i] == Control || a.types[i] == UserDefined)
            added.push_back({{"id", i}, {"content", a.tokens[i]}, {"single_word", false}, {"lstrip", false},
                {"rstrip", false}, {"normalized", false}, {"special", a.types[i] == Control}});
    }
    const auto *merges = meta.find("tokenizer.ggml.merges");
    if (!merges || merges->type != GgufType::Array || merges->arrayType != GgufType::String)
        throw FormatError(path, FormatError::NoOffset, "tokenizer.ggml.merges", "must be an array of strings");
    nlohmann::json mergeList = nlohmann::json::array();
    for (const auto &m : merges->array) {
        if (!isValidUtf8(m.s))
            throw FormatError(path, FormatError::NoOffset, "tokenizer.ggml.merges", "holds invalid UTF-8");
        mergeList.push_back(m.s);
    }
    std::string pre;
    if (const auto *p = meta.find("tokenizer.ggml.pre")) {
        if (p->type != GgufType::String)
            throw FormatError(path, FormatError::NoOffset, "tokenizer.ggml.pre", "must be a string");
        pre = p->s;
    }
    const PreTokenizerEntry entry = preTokenizerFor(pre, path);
    nlohmann::json doc = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", added},
        {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}}};
    doc["normalizer"] = entry.normalizer;
    doc["pre_tokenizer"] = entry.preTokenizer;
    doc["model"] = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr},
        {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr}, {"fuse_unk", false},
        {"byte_fallback", false}, {"ignore_merges", entry.ignoreMerges}, {"vocab", vocab}, {"merges", mergeList}};
    const auto bos = tokenId(meta, "tokenizer.ggml.bos_token_id", n, path);
    if (bos && flag(meta, "tokenizer.ggml.add_bos_token", false, path))
        doc["post_processor"] = {{"type", "TemplateProcessing"},
            {"single",
                {{{"SpecialToken", {{"id", a.tokens[static_cast<std::size_t>(*bos)]}, {"type_id", 0}}}},
                    {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
            {"pair",
                {{{"SpecialToken", {{"id", a.tokens[static_cast<std::size_t>(*bos)]}, {"type_id", 0}}}},
                    {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
            {"special_tokens",
                {{a.tokens[static_cast<std::size_t>(*bos)],
                    {{"id", a.tokens[static_cast<std::size_t>(*bos)]}, {"ids", {*bos}},
                        {"tokens", {a.tokens[static_cast<std::size_t>(*bos)]}}}}}}};
    else
        doc["post_processor"] = nullptr;
    return doc;
}

std::unique_ptr<Tokenizer> gpt2Tokenizer(const GgufMetadata &meta, const std::string &path)
{
    const std::size_t n = readArrays(meta, path, false).tokens.size();
    auto t = HfTokenizer::fromJson(gpt2TokenizerJson(meta, path), path, "GGUF gpt2 vocabulary");
    t->setSpecialIds(
        tokenId(meta, "tokenizer.ggml.bos_token_id", n, path), tokenId(meta, "tokenizer.ggml.eos_token_id", n, path));
    return t;
}

std::string tokenModel(const GgufMetadata &meta, const std::string &path)
{
    if (const auto *m = meta.find("tokenizer.ggml.model")) {
        if (m->type != GgufType::String)
            throw FormatError(path, FormatError::NoOffset, "tokenizer.ggml.model", "must be a string");
        return m->s;
    }
    return "llama";
}

} // namespace

std::unique_ptr<Tokenizer> ggufTokenizer(const GgufMetadata &meta, const std::string &path)
{
    const std::string model = tokenModel(meta, path);
    if (model == "llama")
        return spmTokenizer(meta, path);
    if (model == "gpt2")
        return gpt2Tokenizer(meta, path);
    throw FormatError(path, FormatError::NoOffset, "tokenizer.ggml.model",
        "unsupported tokenizer model \"" + model + "\" (llama and gpt2 are)");
}

std::optional<HfTokenizerFiles> ggufHfTokenizerFiles(const GgufMetadata &meta, const std::string &path)
{
    const std::string model = tokenModel(meta, path);
    HfTokenizerFiles files;
    if (model == "gpt2") {
        files.tokenizerJson = gpt2TokenizerJson(meta, path).dump(2) + "\n";
    } else if (model == "llama") {
        // Scored pieces, as transformers' LlamaConverter writes a SentencePiece BPE model.
        Arrays a = readArrays(meta, path, true);
        ScoredPieces v;
        v.source = path;
        v.scores = std::move(a.scores);
        for (std::size_t i = 0; i < a.tokens.size(); ++i) {
            using Kind = SentencePieceTokenizer::PieceKind;
            const auto type = a.types[i];
            v.kinds.push_back(type == Unknown ? Kind::Unknown
                    : type == Control         ? Kind::Control
                    : type == Byte            ? Kind::Byte
                    : type == Unused          ? Kind::Unused
                                              : Kind::Normal);
        }
        v.pieces = std::move(a.tokens);
        v.bos = tokenId(meta, "tokenizer.ggml.bos_token_id", v.pieces.size(), path);
        v.unk = tokenId(meta, "tokenizer.ggml.unknown_token_id", v.pieces.size(), path);
        if (!v.unk)
            for (std::size_t i = 0; i < v.kinds.size() && !v.unk; ++i)
                if (v.kinds[i] == SentencePieceTokenizer::PieceKind::Unknown)
                    v.unk = static_cast<std::int32_t>(i);
        files.tokenizerJson = scoredPiecesToTokenizerJson(v).dump(2) + "\n";
    } else {
        return std::nullopt;
    }
    const Arrays a = readArrays(meta, path, false);
    nlohmann::ordered_json config;
    config["tokenizer_class"] = "PreTrainedTokenizerFast";
    config["add_bos_token"] = flag(meta, "tokenizer.ggml.add_bos_token", model == "llama", path);
    config["add_eos_token"] = flag(meta, "tokenizer.ggml.add_eos_token", false, path);
    const auto name = [&](const char *key) -> nlohmann::ordered_json {
        const auto id = tokenId(meta, key, a.tokens.size(), path);
        return id ? nlohmann::ordered_json(a.tokens[static_cast<std::size_t>(*id)]) : nlohmann::ordered_json();
    };
    config["bos_token"] = name("tokenizer.ggml.bos_token_id");
    config["eos_token"] = name("tokenizer.ggml.eos_token_id");
    config["unk_token"] = name("tokenizer.ggml.unknown_token_id");
    config["pad_token"] = name("tokenizer.ggml.padding_token_id");
    config["clean_up_tokenization_spaces"] = false;
    if (const auto *t = meta.find("tokenizer.chat_template"); t && t->type == GgufType::String)
        config["chat_template"] = t->s;
    files.tokenizerConfigJson = config.dump(2) + "\n";
    return files;
}

} // namespace blockscope
