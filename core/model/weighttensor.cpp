#include "weighttensor.h"

#include "common/mappedfile.h"
#include "dequantise_gpu.h"
#include "modelhandle.h"
#include "tensorvalues.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

namespace blockscope {

namespace {
std::optional<at::ScalarType> scalarType(DType t)
{
    switch (t) {
    case DType::F32: return at::kFloat;
    case DType::F16: return at::kHalf;
    case DType::BF16: return at::kBFloat16;
    case DType::F64: return at::kDouble;
    case DType::I8: return at::kChar;
    case DType::U8: return at::kByte;
    case DType::I16: return at::kShort;
    case DType::I32: return at::kInt;
    case DType::I64: return at::kLong;
    case DType::Bool: return at::kBool;
    default: return std::nullopt;
    }
}

at::Tensor dequantised(std::span<const std::byte> raw, const TensorInfo &t, at::ScalarType type)
{
    const auto block = *dtypeBlock(t.dtype);
    const auto blocks = static_cast<std::int64_t>(t.elementCount() / block.elements);
    at::Tensor out = at::empty(t.shape, at::TensorOptions().dtype(type));
    const bool direct = type == at::kFloat;
    // Chunks of 64 KiB elements: small enough to stay in cache before conversion and to spread
    // over the intra-op threads, large enough to keep the per-chunk overhead negligible.
    const std::int64_t chunkBlocks = std::max<std::int64_t>(1, 65536 / static_cast<std::int64_t>(block.elements));
    at::parallel_for(0, blocks, chunkBlocks, [&](std::int64_t begin, std::int64_t end) {
        std::vector<float> buf;
        for (std::int64_t b = begin; b < end; b += chunkBlocks) {
            const std::int64_t n = std::min(chunkBlocks, end - b);
            const auto first = static_cast<std::uint64_t>(b) * block.elements;
            const auto count = static_cast<std::uint64_t>(n) * block.elements;
            if (direct) {
                readAsFloat32(t.dtype, raw, first, count, out.data_ptr<float>() + first);
                continue;
            }
            buf.resize(count);
            readAsFloat32(t.dtype, raw, first, count, buf.data());
            at::Tensor src = at::from_blob(buf.data(), {static_cast<std::int64_t>(count)}, at::kFloat);
            out.view({-1}).narrow(0, static_cast<std::int64_t>(first), static_cast<std::int64_t>(count)).copy_(src);
        }
    });
    return out;
}

} // namespace

at::Tensor weightTensor(const std::shared_ptr<const ModelHandle> &model, const TensorInfo &t,
    std::optional<at::ScalarType> dequantisedType, c10::Device device)
{
    if (!t.loadable)
        throw std::invalid_argument(
            "tensor " + t.name + " is stored as " + t.storageType + ", which the engine cannot compute with");
    const auto raw = model->data(t);
    if (dtypeIsBlockQuantised(t.dtype)) {
        const at::ScalarType type = dequantisedType.value_or(at::kFloat);
        auto gpu = dequantiseOnGpu(raw, t, type, device);
        at::Tensor out = gpu ? *std::move(gpu) : dequantised(raw, t, type);
        // A quantised model loaded for compute must not count its file twice in the resident set.
        MappedFile::releasePages(raw);
        return out;
    }
    const auto type = scalarType(t.dtype);
    if (!type)
        throw std::invalid_argument(
            "tensor " + t.name + " has dtype " + std::string(dtypeName(t.dtype)) + ", which LibTorch cannot hold");
    const auto elem = *dtypeElementSize(t.dtype);
    void *ptr = const_cast<std::byte *>(raw.data());
    if (reinterpret_cast<std::uintptr_t>(ptr) % elem != 0) {
        // Some writers do not pad the safetensors header: copy rather than view misaligned data.
        at::Tensor out = at::empty(t.shape, at::TensorOptions().dtype(*type));
        std::memcpy(out.data_ptr(), ptr, t.bytes);
        return out;
    }
    auto keepAlive = new std::shared_ptr<const ModelHandle>(model);
    return at::from_blob(
        ptr, t.shape, [keepAlive](void *) { delete keepAlive; }, at::TensorOptions().dtype(*type));
}

} // namespace blockscope
