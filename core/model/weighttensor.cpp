#include "weighttensor.h"

#include "modelhandle.h"
#include "tensorvalues.h"

#include <ATen/ATen.h>

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
} // namespace

at::Tensor weightTensor(const std::shared_ptr<const ModelHandle> &model, const TensorInfo &t)
{
    if (!t.loadable)
        throw std::invalid_argument(
            "tensor " + t.name + " is stored as " + t.storageType + ", which the engine cannot compute with");
    const auto raw = model->data(t);
    if (t.dtype == DType::Q8_0) {
        at::Tensor out = at::empty(t.shape, at::kFloat);
        readAsFloat32(t.dtype, raw, 0, t.elementCount(), out.data_ptr<float>());
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
