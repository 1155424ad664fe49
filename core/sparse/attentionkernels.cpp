#include "attentionkernels.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#ifdef BLOCKSCOPE_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <attention_blockmax.cuh>
#include <block_sparse_attention.cuh>
#include <c10/cuda/CUDAGuard.h>
#endif

namespace blockscope::sparse {

namespace {

constexpr double negInf = -std::numeric_limits<double>::infinity();

// Query rows per CPU step: whole tiles, about 256 rows, so the [rows x N] score block stays small
// while the matmuls are wide enough to vectorise.
std::int64_t chunkRows(int blockSize)
{
    return static_cast<std::int64_t>(blockSize) * std::max(1, 256 / blockSize);
}

std::int64_t blockCount(std::int64_t tokens, int blockSize)
{
    return (tokens + blockSize - 1) / blockSize;
}

std::string shapeText(at::IntArrayRef sizes)
{
    std::ostringstream s;
    s << '[';
    for (std::size_t i = 0; i < sizes.size(); ++i)
        s << (i ? "," : "") << sizes[i];
    s << ']';
    return s.str();
}

[[noreturn]] void fail(const std::string &what, const std::string &message)
{
    throw std::invalid_argument(what + ": " + message);
}

struct Dims
{
    std::int64_t batch = 0, qHeads = 0, kvHeads = 0, tokens = 0, headDim = 0, nb = 0;
};

void checkDtype(const at::Tensor &t, const std::string &what)
{
    const auto st = t.scalar_type();
    if (t.is_cuda()) {
        if (st != at::kFloat && st != at::kHalf && st != at::kBFloat16)
            fail(what, std::string("dtype ") + c10::toString(st) + " unsupported on CUDA (float32, float16, bfloat16)");
    } else if (st != at::kFloat && st != at::kDouble) {
        fail(what, std::string("dtype ") + c10::toString(st) + " unsupported on CPU (float32 or float64)");
    }
}

void checkSameDevice(const at::Tensor &t, const at::Tensor &q, const std::string &what)
{
    if (t.device() != q.device())
        fail(what, "on " + t.device().str() + " but query on " + q.device().str());
}

// q [b, Hq, N, d]; k (and v when defined) [b, Hkv, N, d] with Hq a multiple of Hkv.
Dims checkAttentionInputs(const at::Tensor &q, const at::Tensor &k, const at::Tensor *v, int blockSize, double scale)
{
    if (!q.defined() || q.dim() != 4)
        fail("query", "expected [b, Hq, N, d], got " + (q.defined() ? shapeText(q.sizes()) : "an undefined tensor"));
    checkDtype(q, "query");
    Dims d;
    d.batch = q.size(0);
    d.qHeads = q.size(1);
    d.tokens = q.size(2);
    d.headDim = q.size(3);
    if (d.qHeads < 1 || d.tokens < 1 || d.headDim < 1)
        fail("query", "shape " + shapeText(q.sizes()) + " has an empty head, token or channel dimension");
    auto checkKv = [&](const at::Tensor &t, const char *what) {
        if (!t.defined() || t.dim() != 4)
            fail(what, "expected [b, Hkv, N, d], got " + (t.defined() ? shapeText(t.sizes()) : "an undefined tensor"));
        checkSameDevice(t, q, what);
        if (t.scalar_type() != q.scalar_type())
            fail(what,
                std::string("dtype ") + c10::toString(t.scalar_type()) + " differs from the query's "
                    + c10::toString(q.scalar_type()));
        if (t.size(0) != d.batch || t.size(2) != d.tokens || t.size(3) != d.headDim)
            fail(what,
                "shape " + shapeText(t.sizes()) + ", expected [" + std::to_string(d.batch) + ",Hkv,"
                    + std::to_string(d.tokens) + "," + std::to_string(d.headDim) + "] to match query "
                    + shapeText(q.sizes()));
    };
    checkKv(k, "key");
    d.kvHeads = k.size(1);
    if (d.kvHeads < 1 || d.qHeads % d.kvHeads != 0)
        fail("key", std::to_string(d.kvHeads) + " KV heads do not divide " + std::to_string(d.qHeads) + " query heads");
    if (v != nullptr) {
        checkKv(*v, "value");
        if (v->size(1) != d.kvHeads)
            fail("value",
                "shape " + shapeText(v->sizes()) + " has " + std::to_string(v->size(1)) + " heads, key has "
                    + std::to_string(d.kvHeads));
    }
    if (blockSize < 1)
        fail("block size", std::to_string(blockSize) + " is not positive");
    if (q.is_cuda()) {
        if (blockSize != 16 && blockSize != 32 && blockSize != 64)
            fail("block size", std::to_string(blockSize) + " unsupported by the CUDA kernels (16, 32 or 64)");
        if (d.headDim > 128)
            fail("query", "head dim " + std::to_string(d.headDim) + " exceeds the CUDA kernels' 128");
    }
    if (!std::isfinite(scale))
        fail("scale", "not finite");
    d.nb = blockCount(d.tokens, blockSize);
    return d;
}

// A selection tensor (mask or index lists): defined, on the query's device, of one of two dtypes.
void checkSelection(const at::Tensor &t, const at::Tensor &q, const std::string &what, at::ScalarType first,
    at::ScalarType second, const char *expected)
{
    if (!t.defined())
        fail(what, "undefined tensor");
    checkSameDevice(t, q, what);
    if (t.scalar_type() != first && t.scalar_type() != second)
        fail(what, std::string("dtype ") + c10::toString(t.scalar_type()) + ", expected " + expected);
}

void checkMask(const at::Tensor &mask, const at::Tensor &q, const Dims &d)
{
    const std::string what = "block mask";
    checkSelection(mask, q, what, at::kBool, at::kByte, "bool or uint8");
    const std::vector<std::int64_t> want{d.batch, d.qHeads, d.nb, d.nb};
    if (mask.sizes() != at::IntArrayRef(want))
        fail(what, "shape " + shapeText(mask.sizes()) + ", expected " + shapeText(want));
}

// Index lists as a bool bitmask (CPU; values already validated).
at::Tensor indicesToMask(const at::Tensor &indices, std::int64_t nb)
{
    at::Tensor idx = indices.to(at::kLong);
    idx = at::where(idx < 0, at::Scalar(nb), idx); // padding lands in an extra column, dropped below
    auto sizes = idx.sizes().vec();
    sizes.back() = nb + 1;
    at::Tensor mask = at::zeros(sizes, idx.options().dtype(at::kBool));
    mask.scatter_(3, idx, true);
    return mask.narrow(3, 0, nb);
}

void checkIndices(const at::Tensor &indices, const at::Tensor &q, const Dims &d)
{
    const std::string what = "block indices";
    checkSelection(indices, q, what, at::kInt, at::kLong, "int32");
    if (indices.dim() != 4 || indices.size(0) != d.batch || indices.size(1) != d.qHeads || indices.size(2) != d.nb)
        fail(what,
            "shape " + shapeText(indices.sizes()) + ", expected [" + std::to_string(d.batch) + ","
                + std::to_string(d.qHeads) + "," + std::to_string(d.nb) + ",maxSel]");
    if (indices.is_cuda() || indices.numel() == 0)
        return; // the kernel skips what is out of order or out of range; checking would synchronise
    // Each row: values in [-1, nb), strictly descending, -1 only as trailing padding.
    at::Tensor idx = indices.to(at::kLong).contiguous();
    if ((idx < -1).any().item<bool>() || (idx >= d.nb).any().item<bool>())
        fail(what, "entries must lie in [-1, " + std::to_string(d.nb) + ")");
    if (idx.size(3) > 1) {
        at::Tensor cur = idx.narrow(3, 1, idx.size(3) - 1);
        at::Tensor prev = idx.narrow(3, 0, idx.size(3) - 1);
        const bool bad
            = ((cur >= 0) & (prev < 0)).any().item<bool>() || ((cur >= 0) & (cur >= prev)).any().item<bool>();
        if (bad)
            fail(what, "each row must list J in strictly descending order, padded with -1 at the end");
    }
}

// K/V with one head per query head (CPU: a materialised repeat is cheap at reference sizes).
at::Tensor perQueryHead(const at::Tensor &kv, const Dims &d)
{
    return d.kvHeads == d.qHeads ? kv : kv.repeat_interleave(d.qHeads / d.kvHeads, 1);
}

at::Tensor blockOfToken(std::int64_t tokens, int blockSize, const at::TensorOptions &opts)
{
    return at::div(at::arange(tokens, opts.dtype(at::kLong)), blockSize, "floor");
}

// Scores of query rows [r0, r0 + rows) against keys [0, r0 + rows), unmasked.
at::Tensor chunkScores(const at::Tensor &q, const at::Tensor &kx, std::int64_t r0, std::int64_t rows, double scale)
{
    return at::matmul(q.narrow(2, r0, rows) * scale, kx.narrow(2, 0, r0 + rows).transpose(2, 3));
}

// [rows, end]: true where key j lies after query i (j > i).
at::Tensor futureKeys(std::int64_t r0, std::int64_t rows, const at::TensorOptions &opts)
{
    const auto longs = opts.dtype(at::kLong);
    return at::arange(r0 + rows, longs).view({1, r0 + rows}) > at::arange(r0, r0 + rows, longs).view({rows, 1});
}

at::Tensor causalScores(const at::Tensor &q, const at::Tensor &kx, std::int64_t r0, std::int64_t rows, double scale)
{
    return chunkScores(q, kx, r0, rows, scale).masked_fill_(futureKeys(r0, rows, q.options()), negInf);
}

// x [.., cols] padded with `fill` to whole tiles and viewed as [.., cols / B, B].
at::Tensor keyTilesOf(const at::Tensor &x, int blockSize, double fill)
{
    const std::int64_t cols = x.size(-1);
    const std::int64_t tiles = blockCount(cols, blockSize);
    const at::Tensor padded
        = tiles * blockSize == cols ? x : at::constant_pad_nd(x, {0, tiles * blockSize - cols}, fill);
    auto shape = x.sizes().vec();
    shape.back() = tiles;
    shape.push_back(blockSize);
    return padded.reshape(shape);
}

// x [b, Hq, rows, end] for query rows [r0, r0 + rows), padded with `fill` to whole key tiles and
// with `fill` in every tile whose block-mask cell is off: [b, Hq, rows, keyTiles * B]. The mask is
// applied per tile through broadcasting, so no token-level mask is built.
at::Tensor fillUnselectedTiles(const at::Tensor &x, const at::Tensor &maskBool, const at::Tensor &blockOf,
    std::int64_t r0, std::int64_t rows, int blockSize, double fill)
{
    at::Tensor tiles = keyTilesOf(x, blockSize, fill); // [b, Hq, rows, keyTiles, B]
    const at::Tensor off
        = maskBool.index_select(2, blockOf.narrow(0, r0, rows)).narrow(3, 0, tiles.size(3)).logical_not().unsqueeze(-1);
    return tiles.masked_fill_(off, fill).flatten(-2);
}

SparseAttentionResult sparseAttentionCpu(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
    const at::Tensor &maskBool, const Dims &d, int blockSize, double scale)
{
    const at::Tensor kx = perQueryHead(k, d);
    const at::Tensor vx = perQueryHead(v, d);
    const at::Tensor blockOf = blockOfToken(d.tokens, blockSize, q.options());
    SparseAttentionResult res;
    res.output = at::zeros_like(q);
    res.lse = at::empty({d.batch, d.qHeads, d.tokens}, q.options().dtype(at::kFloat));
    const std::int64_t step = chunkRows(blockSize);
    for (std::int64_t r0 = 0; r0 < d.tokens; r0 += step) {
        const std::int64_t rows = std::min(step, d.tokens - r0);
        const std::int64_t end = r0 + rows;
        at::Tensor s
            = fillUnselectedTiles(causalScores(q, kx, r0, rows, scale), maskBool, blockOf, r0, rows, blockSize, negInf);
        at::Tensor m = s.amax(-1, true);
        m.masked_fill_(m.isneginf(), 0.0); // empty rows: exp(-inf - 0) = 0
        const at::Tensor p = s.sub_(m).exp_();
        const at::Tensor l = p.sum(-1, true);
        const at::Tensor o
            = at::matmul(p.narrow(-1, 0, end), vx.narrow(2, 0, end)) / at::where(l > 0, l, at::ones_like(l));
        res.output.narrow(2, r0, rows).copy_(o);
        res.lse.narrow(2, r0, rows).copy_((m + l.log()).squeeze(-1)); // log 0 = -inf for empty rows
    }
    res.emptyRows = res.lse.isneginf().sum().item<std::int64_t>();
    return res;
}

at::Tensor maskAsBool(const at::Tensor &mask)
{
    return mask.scalar_type() == at::kBool ? mask : mask.ne(0);
}

#ifdef BLOCKSCOPE_HAVE_CUDA
bs_attn_dtype kernelDtype(const at::Tensor &t)
{
    switch (t.scalar_type()) {
    case at::kFloat: return bs_attn_dtype::f32;
    case at::kHalf: return bs_attn_dtype::f16;
    case at::kBFloat16: return bs_attn_dtype::bf16;
    default: throw std::invalid_argument("query: dtype unsupported by the CUDA kernels");
    }
}

void checkLaunch(cudaError_t err, const char *what)
{
    if (err != cudaSuccess)
        throw std::runtime_error(std::string(what) + " kernel failed: " + cudaGetErrorString(err));
}

// The arguments both kernels share (contiguous q, k, v and their shape); the rest is the caller's.
template<class Args>
Args kernelArgs(
    const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, const Dims &d, int blockSize, double scale)
{
    Args a{};
    a.q = q.data_ptr();
    a.k = k.data_ptr();
    a.v = v.data_ptr();
    a.batch = d.batch;
    a.q_heads = d.qHeads;
    a.kv_heads = d.kvHeads;
    a.tokens = d.tokens;
    a.head_dim = static_cast<int>(d.headDim);
    a.block_size = blockSize;
    a.scale = static_cast<float>(scale);
    a.dtype = kernelDtype(q);
    return a;
}

SparseAttentionResult sparseAttentionCuda(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
    const at::Tensor &mask, const at::Tensor &indices, const Dims &d, int blockSize, double scale)
{
    const c10::cuda::CUDAGuard guard(q.device());
    const at::Tensor qc = q.contiguous(), kc = k.contiguous(), vc = v.contiguous();
    at::Tensor maskBytes, idx;
    if (mask.defined())
        maskBytes = mask.to(at::kByte).contiguous();
    else
        idx = indices.to(at::kInt).contiguous();
    SparseAttentionResult res;
    res.output = at::empty_like(qc);
    res.lse = at::empty({d.batch, d.qHeads, d.tokens}, q.options().dtype(at::kFloat));
    auto a = kernelArgs<bs_block_sparse_args>(qc, kc, vc, d, blockSize, scale);
    a.o = res.output.data_ptr();
    a.lse = res.lse.data_ptr<float>();
    a.mask = maskBytes.defined() ? maskBytes.data_ptr<std::uint8_t>() : nullptr;
    a.indices = idx.defined() ? idx.data_ptr<std::int32_t>() : nullptr;
    a.max_sel = idx.defined() ? static_cast<int>(idx.size(3)) : 0;
    if (idx.defined() && idx.size(3) == 0) {
        // Nothing selected anywhere: the kernel would need a non-null list; the answer is known.
        res.output.zero_();
        res.lse.fill_(negInf);
    } else {
        checkLaunch(bs_block_sparse_attention(a, at::cuda::getCurrentCUDAStream().stream()), "block-sparse attention");
    }
    res.emptyRows = res.lse.isneginf().sum().item<std::int64_t>();
    return res;
}

BlockAttentionMaps blockAttentionMapsCuda(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, const Dims &d,
    int blockSize, double scale, bool withMass, bool withOutput, bool bf16Parity)
{
    const c10::cuda::CUDAGuard guard(q.device());
    const at::Tensor qc = q.contiguous(), kc = k.contiguous(), vc = v.contiguous();
    const auto f32 = q.options().dtype(at::kFloat);
    at::Tensor tileMax
        = at::empty({d.batch, d.qHeads, d.tokens, d.nb}, bf16Parity ? q.options().dtype(at::kBFloat16) : f32);
    at::Tensor rowMax = at::empty({d.batch, d.qHeads, d.tokens}, f32);
    at::Tensor rowSum = at::empty({d.batch, d.qHeads, d.tokens}, f32);
    BlockAttentionMaps maps;
    maps.blockMax = at::empty({d.batch, d.qHeads, d.nb, d.nb}, f32);
    if (withMass)
        maps.mass = at::empty({d.batch, d.qHeads, d.tokens, d.nb}, f32);
    if (withOutput)
        maps.output = at::empty_like(qc);
    auto a = kernelArgs<bs_attention_blockmax_args>(qc, kc, vc, d, blockSize, scale);
    a.o = withOutput ? maps.output.data_ptr() : nullptr;
    a.tile_max = tileMax.data_ptr();
    a.row_max = rowMax.data_ptr<float>();
    a.row_sum = rowSum.data_ptr<float>();
    a.block_max = maps.blockMax.data_ptr<float>();
    a.mass = withMass ? maps.mass.data_ptr<float>() : nullptr;
    a.bf16_intermediates = bf16Parity;
    checkLaunch(bs_attention_blockmax(a, at::cuda::getCurrentCUDAStream().stream()), "attention block-max");
    maps.truth = maps.blockMax / maps.blockMax.sum(-1, true);
    if (bf16Parity)
        maps.truth = maps.truth.to(at::kBFloat16).to(at::kFloat);
    return maps;
}
#endif

[[noreturn]] void noKernels()
{
    throw std::invalid_argument("query: on CUDA, but this build has no CUDA kernels (BLOCKSCOPE_WITH_CUDA=OFF)");
}

} // namespace

SparseAttentionResult blockSparseAttention(
    const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, const at::Tensor &mask, int blockSize, double scale)
{
    const Dims d = checkAttentionInputs(q, k, &v, blockSize, scale);
    checkMask(mask, q, d);
    if (q.is_cuda()) {
#ifdef BLOCKSCOPE_HAVE_CUDA
        return sparseAttentionCuda(q, k, v, mask, at::Tensor(), d, blockSize, scale);
#else
        noKernels();
#endif
    }
    return sparseAttentionCpu(q, k, v, maskAsBool(mask), d, blockSize, scale);
}

SparseAttentionResult blockSparseAttentionIndexed(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
    const at::Tensor &indices, int blockSize, double scale)
{
    const Dims d = checkAttentionInputs(q, k, &v, blockSize, scale);
    checkIndices(indices, q, d);
    if (q.is_cuda()) {
#ifdef BLOCKSCOPE_HAVE_CUDA
        return sparseAttentionCuda(q, k, v, at::Tensor(), indices, d, blockSize, scale);
#else
        noKernels();
#endif
    }
    return sparseAttentionCpu(q, k, v, indicesToMask(indices, d.nb), d, blockSize, scale);
}

at::Tensor maskToIndexLists(const at::Tensor &mask)
{
    const std::string what = "block mask";
    if (!mask.defined() || mask.dim() != 4 || mask.size(2) != mask.size(3))
        fail(what,
            "expected [b, Hq, nb, nb], got " + (mask.defined() ? shapeText(mask.sizes()) : "an undefined tensor"));
    if (mask.scalar_type() != at::kBool && mask.scalar_type() != at::kByte)
        fail(what, std::string("dtype ") + c10::toString(mask.scalar_type()) + ", expected bool or uint8");
    const std::int64_t nb = mask.size(3);
    const auto intOpts = mask.options().dtype(at::kInt);
    at::Tensor causal = at::ones({nb, nb}, mask.options().dtype(at::kBool)).tril();
    at::Tensor on = maskAsBool(mask).logical_and(causal);
    at::Tensor cols = at::arange(nb, intOpts).view({1, 1, 1, nb}).expand_as(on);
    at::Tensor lists = std::get<0>(at::where(on, cols, at::Scalar(-1)).sort(-1, /*descending=*/true));
    const std::int64_t widest = on.numel() == 0 ? 0 : on.sum(-1).max().item<std::int64_t>();
    // At least one column so the lists are never an empty allocation.
    return lists.narrow(3, 0, std::max<std::int64_t>(1, widest)).contiguous();
}

BlockAttentionMaps blockAttentionMaps(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, int blockSize,
    double scale, bool withMass, bool withOutput, bool bf16Parity)
{
    const Dims d = checkAttentionInputs(q, k, &v, blockSize, scale);
    if (q.is_cuda()) {
#ifdef BLOCKSCOPE_HAVE_CUDA
        return blockAttentionMapsCuda(q, k, v, d, blockSize, scale, withMass, withOutput, bf16Parity);
#else
        noKernels();
#endif
    }
    (void)bf16Parity; // a CUDA option: the CPU keeps its intermediates in the input precision
    // Per query chunk (whole tiles): r[i,J] = max_{j in J, j <= i} s_ij, m_i = max_J r[i,J] and
    // l_i = Σ_j exp(s_ij − m_i) — the final state of the online softmax, since the whole row of
    // the chunk is at hand — then a[i,J] = exp(r[i,J] − m_i) / l_i and G[I,J] = max_{i in I} a[i,J].
    const at::Tensor kx = perQueryHead(k, d);
    const at::Tensor vx = perQueryHead(v, d);
    const std::int64_t B = blockSize;
    BlockAttentionMaps maps;
    at::Tensor g = at::zeros({d.batch, d.qHeads, d.nb, d.nb}, q.options());
    at::Tensor mass;
    if (withMass)
        mass = at::zeros({d.batch, d.qHeads, d.tokens, d.nb}, q.options());
    if (withOutput)
        maps.output = at::empty_like(q);
    const std::int64_t step = chunkRows(blockSize);
    for (std::int64_t r0 = 0; r0 < d.tokens; r0 += step) {
        const std::int64_t rows = std::min(step, d.tokens - r0);
        const std::int64_t end = r0 + rows;
        const std::int64_t keyTiles = blockCount(end, blockSize);
        at::Tensor s = causalScores(q, kx, r0, rows, scale); // [b, Hq, rows, end]
        const at::Tensor r = keyTilesOf(s, blockSize, negInf).amax(-1); // [b, Hq, rows, keyTiles]
        const at::Tensor m = r.amax(-1, true);
        const at::Tensor e = s.sub_(m).exp_(); // exp(s − m_i), in place
        const at::Tensor l = e.sum(-1, true);
        const at::Tensor a = (r - m).exp_().div_(l);
        const std::int64_t queryTiles = blockCount(rows, blockSize);
        const at::Tensor aTiles = at::constant_pad_nd(a, {0, 0, 0, queryTiles * B - rows}, 0.0)
                                      .view({d.batch, d.qHeads, queryTiles, B, keyTiles});
        g.narrow(2, r0 / B, queryTiles).narrow(3, 0, keyTiles).copy_(aTiles.amax(3));
        if (withMass) {
            // The second pass once lse_i = m_i + log l_i is known: Σ_{j in J} exp(s_ij − lse_i),
            // i.e. the tile sums of exp(s_ij − m_i), divided by l_i.
            mass.narrow(2, r0, rows).narrow(3, 0, keyTiles).copy_(keyTilesOf(e, blockSize, 0.0).sum(-1).div_(l));
        }
        if (withOutput)
            maps.output.narrow(2, r0, rows).copy_(at::matmul(e, vx.narrow(2, 0, end)).div_(l));
    }
    maps.blockMax = g.to(at::kFloat);
    maps.truth = (g / g.sum(-1, true)).to(at::kFloat);
    if (withMass)
        maps.mass = mass.to(at::kFloat);
    return maps;
}

BlockAttentionMaps blockAttentionMapsExplicit(
    const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, int blockSize, double scale, bool withMass)
{
    const Dims d = checkAttentionInputs(q, k, &v, blockSize, scale);
    const std::int64_t B = blockSize;
    const std::int64_t padded = d.nb * B;
    at::Tensor p = at::softmax(causalScores(q, perQueryHead(k, d), 0, d.tokens, scale), -1); // [b, Hq, N, N]
    at::Tensor tiles = at::constant_pad_nd(p, {0, padded - d.tokens, 0, padded - d.tokens}, 0.0)
                           .view({d.batch, d.qHeads, d.nb, B, d.nb, B});
    at::Tensor g = tiles.amax({3, 5}).tril();
    BlockAttentionMaps maps;
    maps.blockMax = g.to(at::kFloat);
    maps.truth = (g / g.sum(-1, true)).to(at::kFloat);
    if (withMass)
        maps.mass = at::constant_pad_nd(p, {0, padded - d.tokens}, 0.0)
                        .view({d.batch, d.qHeads, d.tokens, d.nb, B})
                        .sum(-1)
                        .to(at::kFloat);
    return maps;
}

at::Tensor attentionMassRecall(
    const at::Tensor &q, const at::Tensor &k, const at::Tensor &mask, int blockSize, double scale)
{
    const Dims d = checkAttentionInputs(q, k, nullptr, blockSize, scale);
    checkMask(mask, q, d);
    if (q.is_cuda()) {
#ifdef BLOCKSCOPE_HAVE_CUDA
        // Both sums share the row maximum, so l_sel / l_all = exp(lse_sel − lse_all); the values
        // are irrelevant to the LSE, so K stands in for V.
        const at::Tensor full = at::ones_like(mask, mask.options().dtype(at::kBool));
        const SparseAttentionResult sel = sparseAttentionCuda(q, k, k, mask, at::Tensor(), d, blockSize, scale);
        const SparseAttentionResult all = sparseAttentionCuda(q, k, k, full, at::Tensor(), d, blockSize, scale);
        return (sel.lse - all.lse).exp();
#else
        noKernels();
#endif
    }
    const at::Tensor kx = perQueryHead(k, d);
    const at::Tensor maskBool = maskAsBool(mask);
    const at::Tensor blockOf = blockOfToken(d.tokens, blockSize, q.options());
    at::Tensor recall = at::empty({d.batch, d.qHeads, d.tokens}, q.options().dtype(at::kFloat));
    const std::int64_t step = chunkRows(blockSize);
    for (std::int64_t r0 = 0; r0 < d.tokens; r0 += step) {
        const std::int64_t rows = std::min(step, d.tokens - r0);
        at::Tensor s = causalScores(q, kx, r0, rows, scale);
        const at::Tensor e = s.sub_(s.amax(-1, true)).exp_(); // one running max for both sums
        const at::Tensor all = e.sum(-1);
        const at::Tensor sel = fillUnselectedTiles(e, maskBool, blockOf, r0, rows, blockSize, 0.0).sum(-1);
        recall.narrow(2, r0, rows).copy_(sel / all);
    }
    return recall;
}

bool sparseKernelsCompiled()
{
#ifdef BLOCKSCOPE_HAVE_CUDA
    return true;
#else
    return false;
#endif
}

} // namespace blockscope::sparse
