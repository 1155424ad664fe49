#pragma once

#include "dtype.h"

#include <cstdint>
#include <string>
#include <vector>

namespace blockscope {

// Where a tensor sits in the decoder. Norms belong to the sublayer they feed: the input norm to
// attention, the post-attention norm to the MLP, so skipping a sublayer skips its norm too.
enum class TensorRole { Embedding, Attention, Mlp, FinalNorm, LmHead, Other };
std::string_view roleName(TensorRole r);

struct TensorInfo
{
    std::string name; // canonical (Hugging Face) name, the same for every format
    std::string sourceName; // the name in the file
    std::vector<std::int64_t> shape; // PyTorch order (outermost first)
    DType dtype = DType::F32;
    std::string storageType; // the file's own type name (e.g. "Q4_K" for an unsupported GGUF type)
    std::uint64_t bytes = 0;
    int fileIndex = 0; // index into ModelHandle::files()
    std::uint64_t offset = 0; // absolute byte offset in that file
    TensorRole role = TensorRole::Other;
    int block = -1; // block index for Attention/Mlp tensors
    bool loadable = true; // false for quantisations the engine cannot compute with

    std::uint64_t elementCount() const;
};

} // namespace blockscope
