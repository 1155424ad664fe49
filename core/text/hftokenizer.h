#pragma once

#include "tokenizer.h"

#include <nlohmann/json_fwd.hpp>

namespace blockscope {

class HfBpeModel;
class HfAddedTokens;
class HfNormalizer;
class HfPreTokenizer;
class HfDecoder;

// A Hugging Face tokenizer.json with a BPE model (formats.md §8): both the SentencePiece-style
// family (Metaspace or Prepend/Replace, byte fallback) and the byte-level family (GPT-2's built-in
// regex or a Split regex read from the file, then ByteLevel). The text must be valid UTF-8; with
// InvalidUtf8::Replace, invalid sequences become U+FFFD first (as Python's errors="replace").
class HfTokenizer : public Tokenizer
{
public:
    // Reads and validates a file (at most 64 MiB, strict JSON).
    static std::unique_ptr<HfTokenizer> load(const std::string &path);
    // Builds from an already parsed document; `file` names it in errors and the description.
    static std::unique_ptr<HfTokenizer> fromJson(
        const nlohmann::json &doc, const std::string &file, const std::string &kind = "tokenizer.json");
    ~HfTokenizer() override;

    std::vector<std::int32_t> encode(std::string_view text) const override;
    std::string decode(std::span<const std::int32_t> ids) const override;
    std::int64_t vocabSize() const override { return m_vocabSize; }
    std::optional<std::int32_t> bosId() const override { return m_bos; }
    std::optional<std::int32_t> eosId() const override { return m_eos; }
    bool addBos() const override { return m_addBos; }
    std::string description() const override;

    // The model's config.json knows BOS/EOS better than token names do.
    void setSpecialIds(std::optional<std::int32_t> bos, std::optional<std::int32_t> eos);
    // Ids the post-processor puts before a single sequence (e.g. <s>).
    const std::vector<std::int32_t> &postPrefix() const { return m_postPrefix; }
    std::optional<std::int32_t> tokenId(std::string_view token) const;

private:
    HfTokenizer();
    std::string m_file;
    std::string m_kind;
    std::unique_ptr<HfBpeModel> m_model;
    std::unique_ptr<HfAddedTokens> m_added;
    std::unique_ptr<HfNormalizer> m_normalizer;
    std::unique_ptr<HfPreTokenizer> m_preTokenizer;
    std::unique_ptr<HfDecoder> m_decoder;
    std::vector<std::string> m_addedContent; // by id, for decode; empty where not an added token
    std::vector<bool> m_special;
    std::vector<std::int32_t> m_postPrefix;
    std::int64_t m_vocabSize = 0;
    std::optional<std::int32_t> m_bos;
    std::optional<std::int32_t> m_eos;
    bool m_addBos = false;
};

} // namespace blockscope
