#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace blockscope {

// Storage types of checkpoint tensors. Q4_0 .. IQ4_XS are GGUF's block formats (ggmlquants.h),
// dequantised at load; Unsupported stands for a GGUF type the engine lists but cannot compute with.
enum class DType {
    F32,
    F16,
    BF16,
    F64,
    F8E4M3,
    F8E5M2,
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    Bool,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q2_K,
    Q3_K,
    Q4_K,
    Q5_K,
    Q6_K,
    IQ4_NL,
    IQ4_XS,
    Unsupported,
};

std::string_view dtypeName(DType t);

// Bytes of one element for plain types; nullopt for block-quantised ones.
std::optional<std::uint64_t> dtypeElementSize(DType t);

// Whether the engine can read the values as floating point (for statistics and compute).
bool dtypeIsFloatReadable(DType t);

// Whether `t` is a GGUF block format, and its block geometry (elements and bytes per block).
bool dtypeIsBlockQuantised(DType t);
struct BlockGeometry
{
    std::uint64_t elements = 1;
    std::uint64_t bytes = 0;
};
std::optional<BlockGeometry> dtypeBlock(DType t);

// Bits of storage per weight (16 for F16, 5.0 for Q4_1, 4.5 for Q4_K ...), nullopt for Unsupported.
std::optional<double> dtypeBitsPerWeight(DType t);

std::optional<DType> dtypeFromSafetensorsName(std::string_view name);

} // namespace blockscope
