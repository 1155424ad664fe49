#pragma once

// A configuration of a model written as a GGUF file that llama.cpp and the `gguf` package read
// (issue 13): removed blocks physically removed, the block count and the tokenizer metadata
// rewritten, tensors in a chosen ggml type.

#include "model/unitmask.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace blockscope {

class ModelHandle;

struct GgufExportOptions
{
    // "" keeps each tensor's type where GGUF holds it (a GGUF's own blocks are copied bit for
    // bit); F32, F16, BF16, Q8_0, Q4_0 or Q4_1 converts every matrix (vectors stay F32).
    std::string type;
    bool force = false; // replace an existing file
    std::string recordJson; // kept under the metadata key blockscope.export (with the mask)
};

struct GgufExportResult
{
    std::string file;
    int keptBlocks = 0;
    std::vector<int> blockMap;
    std::uint64_t bytes = 0;
    std::vector<std::string> zeroed;
    std::vector<std::string> notes;
};

// Writes `model` under `mask` as one GGUF file (version 3). Blocks whose attention and MLP are
// both removed are dropped and the rest renumbered; a removed sublayer of a kept block gets a
// zero output projection (exactly zero in every ggml type). Metadata: a GGUF source's own,
// with {arch}.block_count and general.file_type rewritten; other sources get the architecture
// keys and, from a SentencePiece tokenizer.model, the tokenizer keys. q/k rows are stored in the
// order llama.cpp's "llama" architecture expects (interleaved). Written to a hidden file beside
// `file` and renamed at the end. Throws UsageError for an existing file without `force`, an
// unknown type, a mask of the wrong length, or a tokenizer it cannot describe in GGUF.
GgufExportResult exportGguf(const std::shared_ptr<const ModelHandle> &model, const UnitMask &mask,
    const std::string &file, const GgufExportOptions &options = {});

} // namespace blockscope
