// SentencePiece .model -> tokenizer.json (Family A), for exporting models with a Hugging Face
// tokenizer and for checking the tokenizer.json path against libsentencepiece.
#include "common/formaterror.h"
#include "scoredbpe.h"
#include "sentencepiecetokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace blockscope {

namespace {

// Any scored-piece vocabulary (a SentencePiece model, a GGUF "llama" vocabulary) as tokenizer.json.
template<typename Vocabulary>
nlohmann::json scoredPiecesJson(const Vocabulary &sp)
{
    using Kind = SentencePieceTokenizer::PieceKind;
    const auto n = static_cast<std::int32_t>(sp.vocabSize());
    StringIdMap ids;
    nlohmann::json vocab = nlohmann::json::object();
    nlohmann::json added = nlohmann::json::array();
    float lastNormal = 0;
    bool anyNormal = false;
    for (std::int32_t i = 0; i < n; ++i) {
        const std::string &p = sp.piece(i);
        ids.emplace(p, i);
        vocab[p] = i;
        const Kind kind = sp.kind(i);
        if (kind == Kind::Unknown || kind == Kind::Control)
            added.push_back({{"id", i}, {"content", p}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                {"normalized", false}, {"special", true}});
        if (kind == Kind::Normal) {
            if (anyNormal && sp.score(i) > lastNormal)
                throw FormatError(sp.path(), FormatError::NoOffset, "pieces",
                    "scores rise at piece " + std::to_string(i)
                        + ": not a BPE model, which a tokenizer.json BPE cannot express");
            lastNormal = sp.score(i);
            anyNormal = true;
        }
    }

    // Every split of a piece into two pieces is a merge, ranked by the score of the result (higher
    // first); within a piece, by the ids of the halves (transformers' SentencePieceExtractor).
    struct Merge
    {
        std::int32_t left, right;
        float score;
    };
    std::vector<Merge> merges;
    for (std::int32_t i = 0; i < n; ++i) {
        const std::string &p = sp.piece(i);
        std::vector<Merge> local;
        for (std::size_t cut = 1; cut < p.size(); ++cut) {
            if ((static_cast<unsigned char>(p[cut]) & 0xC0) == 0x80)
                continue; // halves must be whole characters
            auto l = ids.find(std::string_view(p).substr(0, cut));
            auto r = ids.find(std::string_view(p).substr(cut));
            if (l != ids.end() && r != ids.end())
                local.push_back({l->second, r->second, sp.score(i)});
        }
        std::sort(local.begin(), local.end(),
            [](const Merge &a, const Merge &b) { return std::pair(a.left, a.right) < std::pair(b.left, b.right); });
        merges.insert(merges.end(), local.begin(), local.end());
    }
    std::stable_sort(merges.begin(), merges.end(), [](const Merge &a, const Merge &b) { return a.score > b.score; });
    nlohmann::json mergeList = nlohmann::json::array();
    for (const auto &m : merges)
        mergeList.push_back({sp.piece(m.left), sp.piece(m.right)});

    const std::string marker = "\xE2\x96\x81";
    nlohmann::json doc;
    doc["version"] = "1.0";
    doc["truncation"] = nullptr;
    doc["padding"] = nullptr;
    doc["added_tokens"] = added;
    doc["normalizer"] = nullptr;
    doc["pre_tokenizer"]
        = {{"type", "Metaspace"}, {"replacement", marker}, {"prepend_scheme", "first"}, {"split", false}};
    if (const auto bos = sp.bosId()) {
        const std::string name = sp.piece(*bos);
        doc["post_processor"] = {{"type", "TemplateProcessing"},
            {"single",
                {{{"SpecialToken", {{"id", name}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
            {"pair",
                {{{"SpecialToken", {{"id", name}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                    {{"SpecialToken", {{"id", name}, {"type_id", 1}}}}, {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
            {"special_tokens", {{name, {{"id", name}, {"ids", {*bos}}, {"tokens", {name}}}}}}};
    } else {
        doc["post_processor"] = nullptr;
    }
    doc["decoder"] = {{"type", "Sequence"},
        {"decoders",
            {{{"type", "Replace"}, {"pattern", {{"String", marker}}}, {"content", " "}}, {{"type", "ByteFallback"}},
                {{"type", "Fuse"}}, {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
    nlohmann::json model = {{"type", "BPE"}, {"dropout", nullptr}, {"fuse_unk", true}, {"byte_fallback", true},
        {"ignore_merges", false}, {"vocab", vocab}, {"merges", mergeList}};
    model["unk_token"] = sp.unkId() ? nlohmann::json(sp.piece(*sp.unkId())) : nlohmann::json();
    model["continuing_subword_prefix"] = nullptr;
    model["end_of_word_suffix"] = nullptr;
    doc["model"] = model;
    return doc;
}

} // namespace

nlohmann::json sentencePieceToTokenizerJson(const SentencePieceTokenizer &sp)
{
    return scoredPiecesJson(sp);
}

nlohmann::json scoredPiecesToTokenizerJson(const ScoredPieces &pieces)
{
    return scoredPiecesJson(pieces);
}

} // namespace blockscope
