#pragma once

// ggml's block formats (GGUF tensor types): the table of types with their block geometry, and
// dequantisation and quantisation of whole blocks. The arithmetic follows the reference
// implementation of the `gguf` Python package (gguf.quants) operation for operation in float32,
// so results equal it bit for bit; tests compare against fixtures that package produced.
// Plain C++: no LibTorch, so tests and the GUI can use it; callers parallelise over blocks.

#include "dtype.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace blockscope {

struct GgmlTypeInfo
{
    std::uint32_t id; // the ggml_type id stored in GGUF tensor infos
    const char *name;
    std::uint64_t blockElements; // elements per block (1 for plain types)
    std::uint64_t blockBytes; // bytes per block
    DType dtype; // DType::Unsupported for types listed but not computed with
};

// The ggml type with this id, or nullptr for an id ggml does not define.
const GgmlTypeInfo *ggmlTypeById(std::uint32_t id);
// The ggml type for a DType (plain or block-quantised), or nullptr where GGUF has none (U8, ...).
const GgmlTypeInfo *ggmlTypeFor(DType type);

// Whether `type` is one of the block formats dequantiseBlocks() reads / quantiseBlocks() writes.
bool canDequantise(DType type);
bool canQuantise(DType type);

// Reads `blocks` whole blocks of `type` at `src` into blocks × blockElements float32 values.
// Throws std::invalid_argument for a type that is not block-quantised.
void dequantiseBlocks(DType type, const std::byte *src, std::uint64_t blocks, float *dst);

// Writes `blocks` whole blocks of `type` at `dst` from blocks × blockElements float32 values at
// `src` (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1). Values must be finite: the caller checks and names the
// tensor (quantiseTensor does). Throws std::invalid_argument for a type it cannot write.
void quantiseBlocks(DType type, const float *src, std::uint64_t blocks, std::byte *dst);

// A whole tensor (PyTorch shape, row-major float32 values) quantised to `type`. Throws
// std::invalid_argument naming `name` when the type cannot be written, the innermost dimension
// is not a whole number of blocks (a ragged last row, which the format cannot hold), the value
// count does not match the shape, or a value is not finite.
std::vector<std::byte> quantiseTensor(
    const std::string &name, DType type, const std::vector<std::int64_t> &shape, std::span<const float> values);

// IEEE binary16 and bfloat16 from float32, rounded to nearest even as numpy's astype(float16)
// and gguf's BF16 quantiser do (NaN stays NaN, overflow gives infinity).
std::uint16_t floatToHalf(float f);
std::uint16_t floatToBfloat16(float f);

} // namespace blockscope
