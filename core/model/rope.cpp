#include "rope.h"

#include <ATen/ATen.h>
#include <cmath>

namespace blockscope {

at::Tensor ropeInverseFrequencies(const Architecture &a)
{
    const std::int64_t half = a.headDim / 2;
    // As Hugging Face computes it: 1 / base^(arange(0, hd, 2) / hd), in float32.
    at::Tensor exponents = at::arange(0, a.headDim, 2, at::kLong).to(at::kFloat) / static_cast<float>(a.headDim);
    at::Tensor invFreq = 1.0 / at::pow(at::scalar_tensor(static_cast<float>(a.ropeTheta), at::kFloat), exponents);
    const RopeScaling &s = a.ropeScaling;
    if (s.type == RopeScaling::Type::Linear) {
        invFreq = invFreq / static_cast<float>(s.factor);
    } else if (s.type == RopeScaling::Type::Llama3) {
        auto *f = invFreq.data_ptr<float>();
        const double lowWavelen = s.originalContext / s.lowFreqFactor;
        const double highWavelen = s.originalContext / s.highFreqFactor;
        for (std::int64_t i = 0; i < half; ++i) {
            const double w = 2 * M_PI / f[i];
            if (w < highWavelen)
                continue;
            if (w > lowWavelen) {
                f[i] = static_cast<float>(f[i] / s.factor);
            } else {
                const double t = (s.originalContext / w - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
                f[i] = static_cast<float>((1 - t) * f[i] / s.factor + t * f[i]);
            }
        }
    }
    return invFreq;
}

RopeTables ropeTables(const at::Tensor &invFreq, std::int64_t offset, std::int64_t length)
{
    at::Tensor pos = at::arange(offset, offset + length, at::kLong).to(at::kFloat);
    at::Tensor angles = at::outer(pos, invFreq); // [T, hd/2] float32
    return {angles.cos(), angles.sin()};
}

at::Tensor applyRope(const at::Tensor &x, const at::Tensor &cos, const at::Tensor &sin, RopeLayout layout)
{
    const auto hd = x.size(-1);
    const auto dtype = x.scalar_type();
    at::Tensor c = cos.to(x.device(), dtype), s = sin.to(x.device(), dtype);
    if (layout == RopeLayout::RotateHalf) {
        at::Tensor a = x.narrow(-1, 0, hd / 2), b = x.narrow(-1, hd / 2, hd / 2);
        return at::cat({a * c - b * s, a * s + b * c}, -1);
    }
    // Interleaved pairs (2i, 2i+1).
    at::Tensor pairs = x.unflatten(-1, {hd / 2, 2});
    at::Tensor a = pairs.select(-1, 0), b = pairs.select(-1, 1);
    return at::stack({a * c - b * s, a * s + b * c}, -1).flatten(-2);
}

} // namespace blockscope
