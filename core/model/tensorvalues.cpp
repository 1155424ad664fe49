#include "tensorvalues.h"

#include "ggmlquants.h"

#include <bit>
#include <cstring>
#include <stdexcept>

namespace blockscope {

float halfToFloat(std::uint16_t h)
{
    const std::uint32_t sign = (h & 0x8000u) << 16;
    std::uint32_t exp = (h >> 10) & 0x1F;
    std::uint32_t mant = h & 0x3FF;
    std::uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { // subnormal: normalise
            exp = 127 - 15 + 1;
            while ((mant & 0x400) == 0) {
                mant <<= 1;
                --exp;
            }
            mant &= 0x3FF;
            bits = sign | (exp << 23) | (mant << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    return std::bit_cast<float>(bits);
}

float bfloat16ToFloat(std::uint16_t h)
{
    return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
}

void readAsFloat32(DType type, std::span<const std::byte> raw, std::uint64_t first, std::uint64_t count, float *out)
{
    const std::byte *p = raw.data();
    if (dtypeIsBlockQuantised(type)) {
        const auto block = *dtypeBlock(type);
        if (first % block.elements != 0 || count % block.elements != 0)
            throw std::invalid_argument(std::string(dtypeName(type)) + " reads must cover whole blocks of "
                + std::to_string(block.elements) + " elements");
        dequantiseBlocks(type, p + first / block.elements * block.bytes, count / block.elements, out);
        return;
    }
    switch (type) {
    case DType::F32: std::memcpy(out, p + first * 4, count * 4); return;
    case DType::F64:
        for (std::uint64_t i = 0; i < count; ++i) {
            double d;
            std::memcpy(&d, p + (first + i) * 8, 8);
            out[i] = static_cast<float>(d);
        }
        return;
    case DType::F16:
    case DType::BF16:
        for (std::uint64_t i = 0; i < count; ++i) {
            std::uint16_t h;
            std::memcpy(&h, p + (first + i) * 2, 2);
            out[i] = type == DType::F16 ? halfToFloat(h) : bfloat16ToFloat(h);
        }
        return;
    default: throw std::invalid_argument("tensor type " + std::string(dtypeName(type)) + " cannot be read as float32");
    }
}

std::vector<float> readAllAsFloat32(DType type, std::span<const std::byte> raw, std::uint64_t count)
{
    std::vector<float> v(count);
    readAsFloat32(type, raw, 0, count, v.data());
    return v;
}

} // namespace blockscope
