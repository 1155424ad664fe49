#include "dtype.h"

#include "ggmlquants.h"

namespace blockscope {

std::string_view dtypeName(DType t)
{
    switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::F64: return "F64";
    case DType::F8E4M3: return "F8_E4M3";
    case DType::F8E5M2: return "F8_E5M2";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::I16: return "I16";
    case DType::U16: return "U16";
    case DType::I32: return "I32";
    case DType::U32: return "U32";
    case DType::I64: return "I64";
    case DType::U64: return "U64";
    case DType::Bool: return "BOOL";
    case DType::Q4_0: return "Q4_0";
    case DType::Q4_1: return "Q4_1";
    case DType::Q5_0: return "Q5_0";
    case DType::Q5_1: return "Q5_1";
    case DType::Q8_0: return "Q8_0";
    case DType::Q2_K: return "Q2_K";
    case DType::Q3_K: return "Q3_K";
    case DType::Q4_K: return "Q4_K";
    case DType::Q5_K: return "Q5_K";
    case DType::Q6_K: return "Q6_K";
    case DType::IQ4_NL: return "IQ4_NL";
    case DType::IQ4_XS: return "IQ4_XS";
    case DType::Unsupported: return "unsupported";
    }
    return "?";
}

std::optional<std::uint64_t> dtypeElementSize(DType t)
{
    switch (t) {
    case DType::F64:
    case DType::I64:
    case DType::U64: return 8;
    case DType::F32:
    case DType::I32:
    case DType::U32: return 4;
    case DType::F16:
    case DType::BF16:
    case DType::I16:
    case DType::U16: return 2;
    case DType::F8E4M3:
    case DType::F8E5M2:
    case DType::I8:
    case DType::U8:
    case DType::Bool: return 1;
    default: return std::nullopt;
    }
}

bool dtypeIsFloatReadable(DType t)
{
    return t == DType::F32 || t == DType::F16 || t == DType::BF16 || t == DType::F64 || dtypeIsBlockQuantised(t);
}

bool dtypeIsBlockQuantised(DType t)
{
    return canDequantise(t);
}

std::optional<BlockGeometry> dtypeBlock(DType t)
{
    if (const auto size = dtypeElementSize(t))
        return BlockGeometry{1, *size};
    const GgmlTypeInfo *g = ggmlTypeFor(t);
    if (!g)
        return std::nullopt;
    return BlockGeometry{g->blockElements, g->blockBytes};
}

std::optional<double> dtypeBitsPerWeight(DType t)
{
    const auto b = dtypeBlock(t);
    if (!b)
        return std::nullopt;
    return 8.0 * static_cast<double>(b->bytes) / static_cast<double>(b->elements);
}

std::optional<DType> dtypeFromSafetensorsName(std::string_view n)
{
    struct Entry
    {
        std::string_view name;
        DType type;
    };
    static constexpr Entry table[] = {
        {"F32", DType::F32},
        {"F16", DType::F16},
        {"BF16", DType::BF16},
        {"F64", DType::F64},
        {"I8", DType::I8},
        {"U8", DType::U8},
        {"I16", DType::I16},
        {"U16", DType::U16},
        {"I32", DType::I32},
        {"U32", DType::U32},
        {"I64", DType::I64},
        {"U64", DType::U64},
        {"BOOL", DType::Bool},
        {"F8_E4M3", DType::F8E4M3},
        {"F8_E5M2", DType::F8E5M2},
    };
    for (const auto &e : table)
        if (e.name == n)
            return e.type;
    return std::nullopt;
}

} // namespace blockscope
