#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace blockscope {

// Storage types of checkpoint tensors. Q8_0 is GGUF's 8-bit block format (dequantised at load);
// Unsupported stands for a GGUF quantisation the engine lists but cannot compute with.
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
    Q8_0,
    Unsupported,
};

std::string_view dtypeName(DType t);

// Bytes of one element for plain types; nullopt for block-quantised ones.
std::optional<std::uint64_t> dtypeElementSize(DType t);

// Whether the engine can read the values as floating point (for statistics and compute).
bool dtypeIsFloatReadable(DType t);

std::optional<DType> dtypeFromSafetensorsName(std::string_view name);

} // namespace blockscope
