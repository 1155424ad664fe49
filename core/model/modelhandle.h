#pragma once

#include "architecture.h"
#include "tensorinfo.h"

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace blockscope {

class MappedFile;
struct SanityCaps;

// What a checkpoint carries about its tokenizer, as opening found it (the tokenizer itself is
// built in core/text).
struct TokenizerSummary
{
    std::string kind; // "llama2c", "gguf-llama", "gguf-gpt2", "sentencepiece", "tokenizer.json"
    std::string path; // file that holds it
    std::int64_t size = 0; // number of tokens
};

struct OpenOptions
{
    std::string tokenizerPath; // llama2.c: the tokenizer.bin to use (else one is looked for beside)
};

// An opened checkpoint: its architecture, its tensor index and its memory-mapped files.
// Opening reads metadata only; tensor bytes are touched when someone reads them.
// Immutable once built, so it is shared freely between threads as shared_ptr<const>.
class ModelHandle
{
public:
    struct Contents
    {
        std::string path;
        CheckpointFormat format = CheckpointFormat::Safetensors;
        Architecture architecture;
        std::vector<TensorInfo> tensors;
        std::vector<std::shared_ptr<const MappedFile>> files;
        std::vector<std::string> warnings;
        std::optional<TokenizerSummary> tokenizer;
        bool architectureComplete = true; // false when the heads are unknown (bare safetensors)
    };

    // Detects the format of a file or folder and opens it. Throws FormatError (bad content) or
    // UsageError (no such path, unknown kind of file).
    static std::shared_ptr<const ModelHandle> open(const std::string &path, const OpenOptions &options = {});

    // Validates the contents (shapes against the architecture, ranges inside their files, no
    // overlaps, block mapping) and builds the handle. Readers end with this.
    static std::shared_ptr<const ModelHandle> fromContents(Contents contents);

    const std::string &path() const { return m_c.path; }
    CheckpointFormat format() const { return m_c.format; }
    const Architecture &architecture() const { return m_c.architecture; }
    bool architectureComplete() const { return m_c.architectureComplete; }
    const std::vector<TensorInfo> &tensors() const { return m_c.tensors; }
    const std::vector<std::string> &warnings() const { return m_c.warnings; }
    const std::optional<TokenizerSummary> &tokenizer() const { return m_c.tokenizer; }
    const std::vector<std::shared_ptr<const MappedFile>> &files() const { return m_c.files; }
    std::string fileName(int index) const;

    const TensorInfo *find(std::string_view name) const;
    std::span<const std::byte> data(const TensorInfo &t) const;

    // Indices into tensors() of one block's tensors with the given role (Attention or Mlp).
    std::vector<int> blockTensors(int block, TensorRole role) const;

    std::uint64_t parameterCount() const;
    std::uint64_t totalBytes() const;

private:
    explicit ModelHandle(Contents c);
    Contents m_c;
};

} // namespace blockscope
