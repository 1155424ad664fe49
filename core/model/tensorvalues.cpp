#include "tensorvalues.h"

#include "ggmlquants.h"

#include <gguf_blocks.cuh>

#include <bit>
#include <cstring>
#include <stdexcept>

namespace blockscope {

float halfToFloat(std::uint16_t h)
{
    return bs_gguf::half_to_float(h);
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
