#pragma once

#include "scoredbpe.h"
#include "tokenizer.h"

namespace blockscope {

struct Llama2cVocab;

// llama2.c's tokenizer.bin with its own encode and decode (formats.md §2): a dummy-prefix space,
// code points looked up exactly, byte fallback to id byte + 3, highest-score merges. No whitespace
// normalisation: where libsentencepiece would collapse spaces, this keeps them.
class Llama2cTokenizer : public Tokenizer
{
public:
    Llama2cTokenizer(const Llama2cVocab &vocab, std::string path);

    // Loads `path` with the model's vocabulary size (the file does not store it).
    static std::unique_ptr<Llama2cTokenizer> load(const std::string &path, std::int64_t vocabSize);

    std::vector<std::int32_t> encode(std::string_view text) const override;
    std::string decode(std::span<const std::int32_t> ids) const override;
    std::int64_t vocabSize() const override { return static_cast<std::int64_t>(m_vocab.pieces.size()); }
    std::optional<std::int32_t> bosId() const override { return 1; }
    std::optional<std::int32_t> eosId() const override { return 2; }
    bool addBos() const override { return true; }
    std::string description() const override;

    const std::vector<std::string> &warnings() const { return m_warnings; }

private:
    ScoredVocab m_vocab;
    std::string m_path;
    std::vector<std::string> m_warnings;
};

} // namespace blockscope
