#pragma once

// ggml's block formats, one value at a time: the formulas of the `gguf` Python package
// (gguf.quants.<Type>.dequantize_blocks) in float32, operation for operation, written once for the
// CPU (core/model/ggmlquants.cpp, whose block loops call them) and the GPU (gguf_dequant.cu, one
// thread per value). Every multiply and add goes through bs_mul/bs_add/bs_sub, which are never
// fused into an FMA on either side (the host includer is built with -ffp-contract=off; the device
// uses the _rn intrinsics), so both give the reference's bits.
//
// Each format is a struct with its ggml type id, elements and bytes per block, elements per
// sub-block (values that share a scale), scale(block, j) of sub-block j and value(block, j, i,
// scale) of value i of sub-block j (value j·sub + i of the block). Plain
// C++17 with no CUDA runtime dependency, so that the CPU build includes it without the toolkit.

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define BS_HD __host__ __device__ __forceinline__
#else
#define BS_HD inline
#endif

namespace bs_gguf {

BS_HD float bits_to_float(std::uint32_t u)
{
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#else
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
#endif
}

BS_HD float bs_mul(float a, float b)
{
#if defined(__CUDA_ARCH__)
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}

BS_HD float bs_add(float a, float b)
{
#if defined(__CUDA_ARCH__)
    return __fadd_rn(a, b);
#else
    return a + b;
#endif
}

BS_HD float bs_sub(float a, float b)
{
#if defined(__CUDA_ARCH__)
    return __fsub_rn(a, b);
#else
    return a - b;
#endif
}

// IEEE binary16 to float32, exactly (subnormals normalised, infinities and NaNs kept).
BS_HD float half_to_float(std::uint16_t h)
{
    const std::uint32_t sign = (h & 0x8000u) << 16;
    std::uint32_t exp = (h >> 10) & 0x1Fu;
    std::uint32_t mant = h & 0x3FFu;
    if (exp == 0) {
        if (mant == 0)
            return bits_to_float(sign);
        exp = 127 - 15 + 1;
        while ((mant & 0x400u) == 0) {
            mant <<= 1;
            --exp;
        }
        return bits_to_float(sign | (exp << 23) | ((mant & 0x3FFu) << 13));
    }
    if (exp == 31)
        return bits_to_float(sign | 0x7F800000u | (mant << 13));
    return bits_to_float(sign | ((exp + 127 - 15) << 23) | (mant << 13));
}

BS_HD int u8(const std::uint8_t *p)
{
    return p[0];
}

BS_HD std::uint16_t u16(const std::uint8_t *p)
{
    return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}

BS_HD std::uint32_t u32(const std::uint8_t *p)
{
    return static_cast<std::uint32_t>(u16(p)) | (static_cast<std::uint32_t>(u16(p + 2)) << 16);
}

BS_HD float f16(const std::uint8_t *p)
{
    return half_to_float(u16(p));
}

BS_HD int i8(int byte)
{
    return static_cast<std::int8_t>(static_cast<std::uint8_t>(byte));
}

// Q4_0 / Q4_1 / Q5_x / IQ4_NL nibbles: value i < 16 is the low nibble of byte i, 16 + i the high one.
BS_HD int nibble(const std::uint8_t *qs, int i)
{
    return i < 16 ? (qs[i] & 0x0F) : (qs[i - 16] >> 4);
}

struct Scale
{
    float d;
    float m;
};

BS_HD int iq4nl_value(int q)
{
    constexpr int values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    return values[q];
}

struct Q4_0
{
    static constexpr int id = 2, elements = 32, bytes = 18, sub = 32;
    BS_HD static Scale scale(const std::uint8_t *b, int) { return {f16(b), 0.0f}; }
    BS_HD static float value(const std::uint8_t *b, int, int f, Scale s)
    {
        return bs_mul(s.d, static_cast<float>(nibble(b + 2, f) - 8));
    }
};

struct Q4_1
{
    static constexpr int id = 3, elements = 32, bytes = 20, sub = 32;
    BS_HD static Scale scale(const std::uint8_t *b, int) { return {f16(b), f16(b + 2)}; }
    BS_HD static float value(const std::uint8_t *b, int, int f, Scale s)
    {
        return bs_add(bs_mul(s.d, static_cast<float>(nibble(b + 4, f))), s.m);
    }
};

struct Q5_0
{
    static constexpr int id = 6, elements = 32, bytes = 22, sub = 32;
    BS_HD static Scale scale(const std::uint8_t *b, int) { return {f16(b), 0.0f}; }
    BS_HD static float value(const std::uint8_t *b, int, int f, Scale s)
    {
        const int q = nibble(b + 6, f) | static_cast<int>(((u32(b + 2) >> f) & 1u) << 4);
        return bs_mul(s.d, static_cast<float>(q - 16));
    }
};

struct Q5_1
{
    static constexpr int id = 7, elements = 32, bytes = 24, sub = 32;
    BS_HD static Scale scale(const std::uint8_t *b, int) { return {f16(b), f16(b + 2)}; }
    BS_HD static float value(const std::uint8_t *b, int, int f, Scale s)
    {
        const int q = nibble(b + 8, f) | static_cast<int>(((u32(b + 4) >> f) & 1u) << 4);
        return bs_add(bs_mul(s.d, static_cast<float>(q)), s.m);
    }
};

struct Q8_0
{
    static constexpr int id = 8, elements = 32, bytes = 34, sub = 32;
    BS_HD static Scale scale(const std::uint8_t *b, int) { return {f16(b), 0.0f}; }
    BS_HD static float value(const std::uint8_t *b, int, int f, Scale s)
    {
        return bs_mul(static_cast<float>(i8(b[2 + f])), s.d);
    }
};

struct IQ4_NL
{
    static constexpr int id = 20, elements = 32, bytes = 18, sub = 32;
    BS_HD static Scale scale(const std::uint8_t *b, int) { return {f16(b), 0.0f}; }
    BS_HD static float value(const std::uint8_t *b, int, int f, Scale s)
    {
        return bs_mul(s.d, static_cast<float>(iq4nl_value(nibble(b + 2, f))));
    }
};

// Q2_K: scales[16], qs[64], d, dmin. Value f: 2 bits of byte (f / 128) * 32 + f % 32 at shift
// 2 * ((f % 128) / 32); sub-block f / 16 has scale d·(s & 15) and offset dmin·(s >> 4).
struct Q2_K
{
    static constexpr int id = 10, elements = 256, bytes = 84, sub = 16;
    BS_HD static Scale scale(const std::uint8_t *b, int j)
    {
        const int s = b[j];
        return {bs_mul(f16(b + 80), static_cast<float>(s & 0xF)), bs_mul(f16(b + 82), static_cast<float>(s >> 4))};
    }
    BS_HD static float value(const std::uint8_t *b, int j, int i, Scale s)
    {
        const int f = j * sub + i;
        const int q = (b[16 + (f / 128) * 32 + f % 32] >> (2 * ((f % 128) / 32))) & 3;
        return bs_sub(bs_mul(s.d, static_cast<float>(q)), s.m);
    }
};

// Q3_K: hmask[32], qs[64], scales[12] (sixteen 6-bit scales), d.
struct Q3_K
{
    static constexpr int id = 11, elements = 256, bytes = 110, sub = 16;
    BS_HD static Scale scale(const std::uint8_t *b, int k)
    {
        const std::uint8_t *sc = b + 96;
        const int low = (sc[k % 8] >> (4 * (k / 8))) & 0x0F;
        const int high = (sc[8 + k % 4] >> (2 * (k / 4))) & 0x03;
        return {bs_mul(f16(b + 108), static_cast<float>(i8(low | (high << 4)) - 32)), 0.0f};
    }
    BS_HD static float value(const std::uint8_t *b, int j, int i, Scale s)
    {
        const int f = j * sub + i;
        const int ql = (b[32 + (f / 128) * 32 + f % 32] >> (2 * ((f % 128) / 32))) & 3;
        const int qh = ((b[f % 32] >> (f / 32)) & 1) ^ 1;
        return bs_mul(s.d, static_cast<float>(ql - (qh << 2)));
    }
};

// The eight 6-bit scales and mins of Q4_K and Q5_K, packed in 12 bytes from byte 4 of the block.
BS_HD Scale k_scale_min(const std::uint8_t *b, int j)
{
    const std::uint8_t *s = b + 4;
    int sc, m;
    if (j < 4) {
        sc = s[j] & 0x3F;
        m = s[4 + j] & 0x3F;
    } else {
        sc = (s[8 + j - 4] & 0x0F) | ((s[j - 4] >> 2) & 0x30);
        m = (s[8 + j - 4] >> 4) | ((s[4 + j - 4] >> 2) & 0x30);
    }
    return {bs_mul(f16(b), static_cast<float>(sc)), bs_mul(f16(b + 2), static_cast<float>(m))};
}

// Q4_K: d, dmin, scales[12], qs[128]; sub-block j = 2c + s reads nibble s of bytes c·32 .. c·32 + 31.
struct Q4_K
{
    static constexpr int id = 12, elements = 256, bytes = 144, sub = 32;
    BS_HD static Scale scale(const std::uint8_t *b, int j) { return k_scale_min(b, j); }
    BS_HD static float value(const std::uint8_t *b, int j, int i, Scale s)
    {
        const int q = (b[16 + (j / 2) * 32 + i] >> (4 * (j % 2))) & 0x0F;
        return bs_sub(bs_mul(s.d, static_cast<float>(q)), s.m);
    }
};

// Q5_K: d, dmin, scales[12], qh[32], qs[128]; bit j of qh[i] is the fifth bit of value j·32 + i.
struct Q5_K
{
    static constexpr int id = 13, elements = 256, bytes = 176, sub = 32;
    BS_HD static Scale scale(const std::uint8_t *b, int j) { return k_scale_min(b, j); }
    BS_HD static float value(const std::uint8_t *b, int j, int i, Scale s)
    {
        const int low = (b[48 + (j / 2) * 32 + i] >> (4 * (j % 2))) & 0x0F;
        const int high = (b[16 + i] >> j) & 1;
        return bs_sub(bs_mul(s.d, static_cast<float>(low | (high << 4))), s.m);
    }
};

// Q6_K: ql[128], qh[64], scales[16] (int8), d.
struct Q6_K
{
    static constexpr int id = 14, elements = 256, bytes = 210, sub = 16;
    BS_HD static Scale scale(const std::uint8_t *b, int j)
    {
        return {bs_mul(f16(b + 208), static_cast<float>(i8(b[192 + j]))), 0.0f};
    }
    BS_HD static float value(const std::uint8_t *b, int j, int i, Scale s)
    {
        const int f = j * sub + i;
        const int h = f / 128, r = f % 128;
        const int low = (b[h * 64 + r % 64] >> (4 * (r / 64))) & 0x0F;
        const int high = (b[128 + h * 32 + r % 32] >> (2 * (r / 32))) & 0x03;
        return bs_mul(s.d, static_cast<float>(i8(low | (high << 4)) - 32));
    }
};

// IQ4_XS: d, scales_h (uint16), scales_l[4], qs[128]; eight sub-blocks of 32 with 6-bit scales.
struct IQ4_XS
{
    static constexpr int id = 23, elements = 256, bytes = 136, sub = 32;
    BS_HD static Scale scale(const std::uint8_t *b, int j)
    {
        const int low = (b[4 + j / 2] >> (4 * (j % 2))) & 0x0F;
        const int high = (u16(b + 2) >> (2 * j)) & 0x03;
        return {bs_mul(f16(b), static_cast<float>(i8(low | (high << 4)) - 32)), 0.0f};
    }
    BS_HD static float value(const std::uint8_t *b, int j, int i, Scale s)
    {
        const int q = (b[8 + j * 16 + i % 16] >> (4 * (i / 16))) & 0x0F;
        return bs_mul(s.d, static_cast<float>(iq4nl_value(q)));
    }
};

// Value f (0 <= f < F::elements) of the block at b.
template<typename F>
BS_HD float value_at(const std::uint8_t *b, int f)
{
    const int j = f / F::sub;
    return F::value(b, j, f - j * F::sub, F::scale(b, j));
}

// Calls fn(F{}) with the format of ggml type `id`; returns false for a type without one here.
template<typename Fn>
BS_HD bool with_format(int id, Fn &&fn)
{
    switch (id) {
    case Q4_0::id: fn(Q4_0{}); return true;
    case Q4_1::id: fn(Q4_1{}); return true;
    case Q5_0::id: fn(Q5_0{}); return true;
    case Q5_1::id: fn(Q5_1{}); return true;
    case Q8_0::id: fn(Q8_0{}); return true;
    case Q2_K::id: fn(Q2_K{}); return true;
    case Q3_K::id: fn(Q3_K{}); return true;
    case Q4_K::id: fn(Q4_K{}); return true;
    case Q5_K::id: fn(Q5_K{}); return true;
    case Q6_K::id: fn(Q6_K{}); return true;
    case IQ4_NL::id: fn(IQ4_NL{}); return true;
    case IQ4_XS::id: fn(IQ4_XS{}); return true;
    default: return false;
    }
}

} // namespace bs_gguf
