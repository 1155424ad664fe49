#include "ggmlquants.h"

#include "tensorvalues.h"

#include <gguf_blocks.cuh>

#include <bit>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

// Built with -ffp-contract=off (see core/CMakeLists.txt): gguf.quants computes every product and
// sum as a separate float32 numpy operation, and a fused multiply-add would round differently.

namespace blockscope {

namespace {

constexpr GgmlTypeInfo ggmlTypes[] = {
    {0, "F32", 1, 4, DType::F32},
    {1, "F16", 1, 2, DType::F16},
    {2, "Q4_0", 32, 18, DType::Q4_0},
    {3, "Q4_1", 32, 20, DType::Q4_1},
    {6, "Q5_0", 32, 22, DType::Q5_0},
    {7, "Q5_1", 32, 24, DType::Q5_1},
    {8, "Q8_0", 32, 34, DType::Q8_0},
    {9, "Q8_1", 32, 36, DType::Unsupported},
    {10, "Q2_K", 256, 84, DType::Q2_K},
    {11, "Q3_K", 256, 110, DType::Q3_K},
    {12, "Q4_K", 256, 144, DType::Q4_K},
    {13, "Q5_K", 256, 176, DType::Q5_K},
    {14, "Q6_K", 256, 210, DType::Q6_K},
    {15, "Q8_K", 256, 292, DType::Unsupported},
    {16, "IQ2_XXS", 256, 66, DType::Unsupported},
    {17, "IQ2_XS", 256, 74, DType::Unsupported},
    {18, "IQ3_XXS", 256, 98, DType::Unsupported},
    {19, "IQ1_S", 256, 50, DType::Unsupported},
    {20, "IQ4_NL", 32, 18, DType::IQ4_NL},
    {21, "IQ3_S", 256, 110, DType::Unsupported},
    {22, "IQ2_S", 256, 82, DType::Unsupported},
    {23, "IQ4_XS", 256, 136, DType::IQ4_XS},
    {24, "I8", 1, 1, DType::I8},
    {25, "I16", 1, 2, DType::I16},
    {26, "I32", 1, 4, DType::I32},
    {27, "I64", 1, 8, DType::I64},
    {28, "F64", 1, 8, DType::F64},
    {29, "IQ1_M", 256, 56, DType::Unsupported},
    {30, "BF16", 1, 2, DType::BF16},
    {34, "TQ1_0", 256, 54, DType::Unsupported},
    {35, "TQ2_0", 256, 66, DType::Unsupported},
    {39, "MXFP4", 32, 17, DType::Unsupported},
};

void putU16(std::byte *p, std::uint16_t v)
{
    p[0] = static_cast<std::byte>(v & 0xFF);
    p[1] = static_cast<std::byte>(v >> 8);
}

// ---- Dequantisation, one block at a time (gguf.quants.<Type>.dequantize_blocks) ----

// The formulas are kernels/gguf_blocks.cuh's, shared with the GPU kernel; here each sub-block's
// scale is computed once for the values that share it.
template<typename F>
void dequantiseBlock(const std::byte *block, float *y)
{
    const auto *b = reinterpret_cast<const std::uint8_t *>(block);
    for (int j = 0; j < F::elements / F::sub; ++j) {
        const bs_gguf::Scale s = F::scale(b, j);
        for (int i = 0; i < F::sub; ++i)
            y[j * F::sub + i] = F::value(b, j, i, s);
    }
}

using DequantFn = void (*)(const std::byte *, float *);

DequantFn dequantFn(DType type)
{
    const GgmlTypeInfo *info = ggmlTypeFor(type);
    DequantFn fn = nullptr;
    if (info && info->blockElements > 1)
        bs_gguf::with_format(static_cast<int>(info->id), [&](auto format) { fn = dequantiseBlock<decltype(format)>; });
    return fn;
}

// ---- Quantisation (gguf.quants.<Type>.quantize_blocks) ----

// A quantised level from its float32 value as numpy's astype(uint8) then clip gives it on x86:
// the value converts through a 32-bit integer whose low byte is kept, and NaN or out-of-range
// values (reachable only through a float32-subnormal scale, whose reciprocal overflows) give 0.
int level(float v, int maxLevel)
{
    if (!(v >= 0.0f) || !(v < 2147483648.0f))
        return 0;
    const int q = static_cast<int>(static_cast<std::int64_t>(v) & 0xFF);
    return q > maxLevel ? maxLevel : q;
}

// numpy's astype(int8) of a rounded value, with the same x86 conversion for NaN and infinity.
std::int8_t signedLevel(float r)
{
    if (!(r > -2147483648.0f && r < 2147483648.0f))
        return 0;
    return static_cast<std::int8_t>(static_cast<std::int64_t>(r) & 0xFF);
}

float reciprocalOrZero(float d)
{
    return d == 0.0f ? 0.0f : 1.0f / d;
}

// The signed value of largest magnitude, the first one on ties (numpy's argmax of abs).
float signedAbsMax(const float *x)
{
    float best = x[0];
    for (int i = 1; i < 32; ++i)
        if (std::fabs(x[i]) > std::fabs(best))
            best = x[i];
    return best;
}

// Block minimum and maximum; among equal values (+0 and -0) the first one wins, as in ggml's
// quantize_row_q4_1_ref. numpy's SIMD reductions pick between +0 and -0 by lane order instead,
// so where a block's minimum is a signed zero the stored minimum's sign may differ from
// gguf.quants (the dequantised values cannot: d·q + m is +0 either way).
void minMax(const float *x, float &lo, float &hi)
{
    lo = hi = x[0];
    for (int i = 1; i < 32; ++i) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
}

void packNibbles(const int *q, std::byte *qs)
{
    for (int i = 0; i < 16; ++i)
        qs[i] = static_cast<std::byte>(((q[i] & 0x0F) | (q[i + 16] << 4)) & 0xFF);
}

void packHighBits(const int *q, std::byte *qh)
{
    std::uint32_t bits = 0;
    for (int i = 0; i < 32; ++i)
        bits |= static_cast<std::uint32_t>((q[i] >> 4) & 1) << i;
    putU16(qh, static_cast<std::uint16_t>(bits & 0xFFFF));
    putU16(qh + 2, static_cast<std::uint16_t>(bits >> 16));
}

void qQ8_0(const float *x, std::byte *b)
{
    float amax = 0.0f;
    for (int i = 0; i < 32; ++i)
        amax = std::fabs(x[i]) > amax ? std::fabs(x[i]) : amax;
    const float d = amax / 127.0f;
    const float id = reciprocalOrZero(d);
    putU16(b, floatToHalf(d));
    for (int i = 0; i < 32; ++i) {
        const float r = std::round(x[i] * id); // np_roundf: half away from zero
        b[2 + i] = static_cast<std::byte>(signedLevel(r));
    }
}

// Q4_0 and Q5_0: scale from the signed extreme, d = extreme / -2^(bits-1), levels x/d + 2^(bits-1),
// rounded by adding one half and truncating; the fifth bits go in a 32-bit mask before the nibbles.
template<int Bits>
void quantiseSymmetric(const float *x, std::byte *b)
{
    constexpr float half = static_cast<float>(1 << (Bits - 1));
    const float d = signedAbsMax(x) / -half;
    const float id = reciprocalOrZero(d);
    int q[32];
    for (int i = 0; i < 32; ++i)
        q[i] = level(x[i] * id + (half + 0.5f), (1 << Bits) - 1);
    putU16(b, floatToHalf(d));
    std::byte *qs = b + 2;
    if constexpr (Bits == 5) {
        packHighBits(q, qs);
        qs += 4;
    }
    packNibbles(q, qs);
}

// Q4_1 and Q5_1: d = (max - min) / (2^bits - 1) and the minimum m, levels (x - m)/d.
template<int Bits>
void quantiseAffine(const float *x, std::byte *b)
{
    float lo = 0, hi = 0;
    minMax(x, lo, hi);
    const float d = (hi - lo) / static_cast<float>((1 << Bits) - 1);
    const float id = reciprocalOrZero(d);
    int q[32];
    for (int i = 0; i < 32; ++i)
        q[i] = level((x[i] - lo) * id + 0.5f, (1 << Bits) - 1);
    putU16(b, floatToHalf(d));
    putU16(b + 2, floatToHalf(lo));
    std::byte *qs = b + 4;
    if constexpr (Bits == 5) {
        packHighBits(q, qs);
        qs += 4;
    }
    packNibbles(q, qs);
}

using QuantFn = void (*)(const float *, std::byte *);

QuantFn quantFn(DType type)
{
    switch (type) {
    case DType::Q8_0: return qQ8_0;
    case DType::Q4_0: return quantiseSymmetric<4>;
    case DType::Q4_1: return quantiseAffine<4>;
    case DType::Q5_0: return quantiseSymmetric<5>;
    case DType::Q5_1: return quantiseAffine<5>;
    default: return nullptr;
    }
}

} // namespace

const GgmlTypeInfo *ggmlTypeById(std::uint32_t id)
{
    for (const auto &t : ggmlTypes)
        if (t.id == id)
            return &t;
    return nullptr;
}

const GgmlTypeInfo *ggmlTypeFor(DType type)
{
    if (type == DType::Unsupported)
        return nullptr;
    for (const auto &t : ggmlTypes)
        if (t.dtype == type)
            return &t;
    return nullptr;
}

bool canDequantise(DType type)
{
    return dequantFn(type) != nullptr;
}

bool canQuantise(DType type)
{
    return quantFn(type) != nullptr;
}

void dequantiseBlocks(DType type, const std::byte *src, std::uint64_t blocks, float *dst)
{
    const DequantFn fn = dequantFn(type);
    const GgmlTypeInfo *info = ggmlTypeFor(type);
    if (!fn || !info)
        throw std::invalid_argument("tensor type " + std::string(dtypeName(type)) + " is not a ggml block format");
    for (std::uint64_t k = 0; k < blocks; ++k)
        fn(src + k * info->blockBytes, dst + k * info->blockElements);
}

void quantiseBlocks(DType type, const float *src, std::uint64_t blocks, std::byte *dst)
{
    const QuantFn fn = quantFn(type);
    const GgmlTypeInfo *info = ggmlTypeFor(type);
    if (!fn || !info)
        throw std::invalid_argument(
            "quantisation to " + std::string(dtypeName(type)) + " is not supported (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 are)");
    for (std::uint64_t k = 0; k < blocks; ++k)
        fn(src + k * info->blockElements, dst + k * info->blockBytes);
}

std::vector<std::byte> quantiseTensor(
    const std::string &name, DType type, const std::vector<std::int64_t> &shape, std::span<const float> values)
{
    const GgmlTypeInfo *info = ggmlTypeFor(type);
    if (!canQuantise(type) || !info)
        throw std::invalid_argument("tensor " + name + ": quantisation to " + std::string(dtypeName(type))
            + " is not supported (Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1 are)");
    if (shape.empty())
        throw std::invalid_argument("tensor " + name + " has no dimensions, so it has no rows to quantise");
    std::uint64_t n = 1;
    for (const auto d : shape) {
        if (d <= 0)
            throw std::invalid_argument("tensor " + name + " has a dimension of " + std::to_string(d));
        n *= static_cast<std::uint64_t>(d);
    }
    if (static_cast<std::uint64_t>(shape.back()) % info->blockElements != 0)
        throw std::invalid_argument("tensor " + name + ": its rows of " + std::to_string(shape.back())
            + " elements are not a multiple of " + std::to_string(info->blockElements) + ", the " + info->name
            + " block size (a ragged last block cannot be stored)");
    if (values.size() != n)
        throw std::invalid_argument("tensor " + name + " has " + std::to_string(values.size())
            + " values for a shape of " + std::to_string(n) + " elements");
    for (std::size_t i = 0; i < values.size(); ++i)
        if (!std::isfinite(values[i]))
            throw std::invalid_argument("tensor " + name + ": value " + std::to_string(i) + " is not finite ("
                + std::to_string(values[i]) + "), which " + info->name + " cannot hold");
    std::vector<std::byte> out(n / info->blockElements * info->blockBytes);
    quantiseBlocks(type, values.data(), n / info->blockElements, out.data());
    return out;
}

std::uint16_t floatToHalf(float f)
{
    const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
    const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
    const std::uint32_t a = x & 0x7FFFFFFFu;
    if (a >= 0x7F800000u) {
        if (a == 0x7F800000u)
            return sign | 0x7C00u;
        auto h = static_cast<std::uint16_t>(0x7C00u + ((a & 0x007FFFFFu) >> 13));
        if (h == 0x7C00u)
            ++h; // keep a NaN a NaN when its payload sits in the low bits
        return sign | h;
    }
    if (a >= 0x477FF000u) // 65520 and above round to infinity
        return sign | 0x7C00u;
    const std::uint32_t e = a >> 23;
    if (e < 113) { // below 2^-14: a binary16 subnormal or zero
        if (e < 102)
            return sign;
        const std::uint32_t m = (a & 0x007FFFFFu) | 0x00800000u;
        const std::uint32_t shift = 126 - e; // 14 .. 24
        std::uint32_t h = m >> shift;
        const std::uint32_t rest = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rest > half || (rest == half && (h & 1u)))
            ++h;
        return static_cast<std::uint16_t>(sign | h);
    }
    std::uint32_t h = (a - 0x38000000u) >> 13;
    const std::uint32_t rest = a & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u)))
        ++h;
    return static_cast<std::uint16_t>(sign | h);
}

std::uint16_t floatToBfloat16(float f)
{
    std::uint32_t n = std::bit_cast<std::uint32_t>(f);
    if ((n & 0x7FFFFFFFu) > 0x7F800000u)
        n = (n & 0xFFFF0000u) | (64u << 16); // quiet NaN, as ggml_compute_fp32_to_bf16
    const std::uint64_t r = (static_cast<std::uint64_t>(n) + (0x7FFFu + ((n >> 16) & 1u))) >> 16;
    return static_cast<std::uint16_t>(r);
}

} // namespace blockscope
