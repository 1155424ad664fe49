#pragma once

#include "tokenizer.h"

#include <nlohmann/json_fwd.hpp>

namespace blockscope {

// A SentencePiece .model through libsentencepiece (formats.md §3); the protobuf is never parsed
// here. The library normalises whitespace (it strips and collapses spaces), so its ids differ from
// llama2.c's on such text; protocol cards say which implementation ran. Invalid UTF-8 is passed to
// the library as it is, which replaces it (the accepted, recorded behaviour).
class SentencePieceTokenizer : public Tokenizer
{
public:
    enum class PieceKind { Normal, Unknown, Control, Byte, Unused };

    // Throws FormatError naming `path` for a file over 64 MiB, a parse failure (the library's
    // status message) or a model without pieces.
    static std::unique_ptr<SentencePieceTokenizer> load(const std::string &path);
    ~SentencePieceTokenizer() override;

    std::vector<std::int32_t> encode(std::string_view text) const override;
    std::string decode(std::span<const std::int32_t> ids) const override;
    std::int64_t vocabSize() const override;
    std::optional<std::int32_t> bosId() const override;
    std::optional<std::int32_t> eosId() const override;
    std::optional<std::int32_t> unkId() const;
    bool addBos() const override { return bosId().has_value(); }
    std::string description() const override;

    // The pieces as the library reports them, for the converters.
    const std::string &piece(std::int32_t id) const;
    float score(std::int32_t id) const;
    PieceKind kind(std::int32_t id) const;
    const std::string &path() const { return m_path; }

private:
    SentencePieceTokenizer();
    struct Impl;
    std::unique_ptr<Impl> m;
    std::string m_path;
};

// The llama2.c tokenizer.bin bytes of a SentencePiece model, written the way llama2.c's exporter
// does: BOS and EOS become "\n<s>\n" and "\n</s>\n", "▁" becomes a space, scores are copied and the
// header holds the longest piece in bytes.
std::string sentencePieceToLlama2c(const SentencePieceTokenizer &sp);

// A tokenizer.json (formats.md §8, Family A) for a SentencePiece BPE model, as transformers'
// LlamaConverter writes it: Metaspace pre-tokenizer (prepend "first", no split), byte fallback,
// merges ranked by the score of their result, <s> added by the post-processor. Throws FormatError
// when the model does not look like BPE (normal pieces' scores must not rise with the id).
nlohmann::json sentencePieceToTokenizerJson(const SentencePieceTokenizer &sp);

// The same from a vocabulary given as pieces, scores and kinds (a GGUF "llama" vocabulary).
struct ScoredPieces
{
    std::string source; // named in errors
    std::vector<std::string> pieces;
    std::vector<float> scores;
    std::vector<SentencePieceTokenizer::PieceKind> kinds;
    std::optional<std::int32_t> bos, unk;

    std::int64_t vocabSize() const { return static_cast<std::int64_t>(pieces.size()); }
    const std::string &piece(std::int32_t id) const { return pieces[static_cast<std::size_t>(id)]; }
    float score(std::int32_t id) const { return scores[static_cast<std::size_t>(id)]; }
    SentencePieceTokenizer::PieceKind kind(std::int32_t id) const { return kinds[static_cast<std::size_t>(id)]; }
    const std::string &path() const { return source; }
    std::optional<std::int32_t> bosId() const { return bos; }
    std::optional<std::int32_t> unkId() const { return unk; }
};
nlohmann::json scoredPiecesToTokenizerJson(const ScoredPieces &pieces);

} // namespace blockscope
