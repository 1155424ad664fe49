#pragma once

#include "tokenizer.h"

#include <optional>
#include <string>

namespace blockscope {

struct GgufMetadata;

// The vocabulary embedded in a GGUF file (formats.md §4): tokenizer.ggml.model "llama" is
// SentencePiece-style BPE by score (llama2.c's algorithm on "▁"-marked text, byte tokens from
// token_type 6), "gpt2" is byte-level BPE over tokenizer.ggml.merges with the pre-tokenizer that
// tokenizer.ggml.pre names. Throws FormatError naming `path` and the key at fault.
std::unique_ptr<Tokenizer> ggufTokenizer(const GgufMetadata &meta, const std::string &path);

// The Hugging Face tokenizer files of a GGUF vocabulary, for exports: tokenizer.json (the document
// ggufTokenizer reads a "gpt2" vocabulary through) and tokenizer_config.json (special tokens, BOS
// policy, chat template); a "llama" (SentencePiece-by-score) vocabulary as transformers'
// LlamaConverter writes one. nullopt for another tokenizer model.
struct HfTokenizerFiles
{
    std::string tokenizerJson;
    std::string tokenizerConfigJson;
};
std::optional<HfTokenizerFiles> ggufHfTokenizerFiles(const GgufMetadata &meta, const std::string &path);

} // namespace blockscope
