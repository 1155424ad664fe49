#include "gateops.h"

#include "model/rope.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace blockscope::sparse {

namespace {

// x [b, N, H, d] padded along dim 1 to nb·B with `fill`, viewed as [b, nb, B, H, d].
at::Tensor blocked(const at::Tensor &x, int B, double fill)
{
    const auto N = x.size(1);
    const auto nb = (N + B - 1) / B;
    at::Tensor padded = x;
    if (nb * B != N) {
        std::vector<std::int64_t> shape = x.sizes().vec();
        shape[1] = nb * B - N;
        padded = at::cat({x, at::full(shape, fill, x.options())}, 1);
    }
    return padded.view({x.size(0), nb, B, x.size(2), x.size(3)});
}

void checkPoolInput(const at::Tensor &x, int B, const char *what)
{
    if (x.dim() != 4)
        throw std::invalid_argument(
            std::string(what) + ": expected [batch, tokens, heads, dim], got rank " + std::to_string(x.dim()));
    if (B <= 0)
        throw std::invalid_argument("block size must be positive");
}

} // namespace

at::Tensor avgPoolBlocks(const at::Tensor &x, int B)
{
    checkPoolInput(x, B, "gate query");
    const auto N = x.size(1);
    const auto nb = (N + B - 1) / B;
    at::Tensor sums = blocked(x, B, 0.0).sum(2); // [b, nb, H, d]
    at::Tensor counts = at::full({nb}, static_cast<double>(B), x.options());
    if (nb * B != N)
        counts[nb - 1] = static_cast<double>(N - (nb - 1) * B);
    return sums / counts.view({1, nb, 1, 1});
}

at::Tensor maxMinAvgPoolBlocks(const at::Tensor &x, int B)
{
    checkPoolInput(x, B, "gate key");
    const double inf = std::numeric_limits<double>::infinity();
    at::Tensor mx = std::get<0>(blocked(x, B, -inf).max(2));
    at::Tensor mn = -std::get<0>(blocked(-x, B, -inf).max(2)); // min = −max(−x)
    return at::cat({mx, mn, avgPoolBlocks(x, B)}, -1);
}

at::Tensor gateLogitsFromPooled(
    const at::Tensor &qPool, const at::Tensor &kPool, const GateLayerWeights &w, const GateGeometry &g)
{
    const auto b = qPool.size(0), nb = qPool.size(1);
    const auto G = g.qHeads / g.kvHeads;
    at::Tensor q = qPool.to(at::kFloat), k = kPool.to(at::kFloat);
    if (w.wq.defined()) {
        q = at::einsum("bnhd,hde->bnhe", {q, w.wq});
        k = at::einsum("bnhd,hde->bnhe", {k, w.wk});
        if (G > 1)
            k = k.repeat_interleave(G, 2);
    } else {
        if (G > 1)
            k = k.repeat_interleave(G, 2); // replicate pooled K per query head, then a linear per q head
        k = at::einsum("bnhd,hde->bnhe", {k, w.wk});
    }
    q = q.transpose(1, 2); // [b, Hq, nb, d_g]
    k = k.transpose(1, 2);
    at::Tensor pos = at::arange(nb, at::TensorOptions().dtype(at::kFloat).device(q.device())) * g.blockSize;
    at::Tensor angles = pos.unsqueeze(1) * g.invFreq.to(q.device()).unsqueeze(0); // [nb, d_g/2]
    q = applyRope(q, angles.cos(), angles.sin(), g.ropeLayout);
    k = applyRope(k, angles.cos(), angles.sin(), g.ropeLayout);
    at::Tensor S = at::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(g.gateDim));
    at::Tensor upper = at::ones({nb, nb}, at::TensorOptions().dtype(at::kBool).device(q.device())).triu(1);
    (void)b;
    return S.masked_fill(upper, std::numeric_limits<float>::lowest());
}

at::Tensor gateDistillationLoss(const at::Tensor &logits, const at::Tensor &truth)
{
    const auto b = logits.size(0), H = logits.size(1), nb = logits.size(2);
    const auto off = nb / 4;
    at::Tensor x = at::log_softmax(logits.narrow(2, off, nb - off).to(at::kFloat), -1);
    at::Tensor y = truth.narrow(2, off, nb - off).to(at::kFloat);
    // y·(log y − x) with 0·log 0 = 0: xlogy keeps the y = 0 terms at exactly 0.
    at::Tensor terms = at::xlogy(y, y) - y * x;
    return terms.sum() / static_cast<double>(b * H * (nb - off) * nb);
}

} // namespace blockscope::sparse
