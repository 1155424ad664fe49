#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace blockscope {

class ModelHandle;

// A tokenizer: text to ids and back. encode() never adds BOS/EOS; callers decide that from the
// evaluation protocol (addBos() says what the tokenizer's own configuration would do).
// Implementations: llama2.c tokenizer.bin, SentencePiece .model (libsentencepiece), Hugging Face
// tokenizer.json BPE (SentencePiece-style with byte fallback, and byte-level with a regex).
class Tokenizer
{
public:
    virtual ~Tokenizer() = default;

    // Throws FormatError on input the tokenizer must refuse (e.g. invalid UTF-8 on a regex path).
    virtual std::vector<std::int32_t> encode(std::string_view text) const = 0;
    virtual std::string decode(std::span<const std::int32_t> ids) const = 0;

    virtual std::int64_t vocabSize() const = 0;
    virtual std::optional<std::int32_t> bosId() const = 0;
    virtual std::optional<std::int32_t> eosId() const = 0;
    // Whether the tokenizer's own configuration prepends BOS (post-processor, add_bos_token).
    virtual bool addBos() const = 0;
    // One line for protocol cards: the implementation and the file, e.g.
    // "llama2.c tokenizer.bin (tok512.bin)".
    virtual std::string description() const = 0;

    // What encode() does with invalid UTF-8 where the implementation needs valid text (the
    // tokenizer.json and GGUF byte-level paths): refuse it (the default), or replace each maximal
    // invalid subsequence with U+FFFD as Python's errors="replace" does. The choice belongs in the
    // protocol card. llama2.c tokenizers take invalid bytes one at a time and libsentencepiece
    // applies its own replacement; both ignore this setting.
    enum class InvalidUtf8 { Error, Replace };
    void setInvalidUtf8(InvalidUtf8 policy) { m_invalidUtf8 = policy; }
    InvalidUtf8 invalidUtf8() const { return m_invalidUtf8; }

private:
    InvalidUtf8 m_invalidUtf8 = InvalidUtf8::Error;
};

// The tokenizer that belongs to a model: tokenizer.json, tokenizer.model or tokenizer.bin beside
// it (in that order of preference), or the vocabulary embedded in a GGUF file. `explicitPath`
// overrides the search. Throws FormatError (bad file), UsageError (none found) and refuses a
// tokenizer whose vocabulary does not fit the model's.
std::unique_ptr<Tokenizer> loadTokenizerFor(const ModelHandle &model, const std::string &explicitPath = {});

} // namespace blockscope
