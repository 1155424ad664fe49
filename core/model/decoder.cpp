#include "decoder.h"

#include "common/device.h"
#include "modelhandle.h"
#include "rope.h"
#include "tensornames.h"
#include "weighttensor.h"

#include <ATen/ATen.h>
#include <cmath>
#include <functional>

namespace blockscope {

namespace {

struct Linear
{
    at::Tensor weight;
    at::Tensor bias; // undefined when absent
    at::Tensor operator()(const at::Tensor &x) const { return at::linear(x, weight, bias); }
};

struct Block
{
    at::Tensor attnNorm, mlpNorm;
    Linear q, k, v, o, gate, up, down;
};

// RMSNorm as Hugging Face computes it: in float32, then back to the input dtype before the weight.
at::Tensor rmsNorm(const at::Tensor &x, const at::Tensor &w, double eps)
{
    at::Tensor xf = x.scalar_type() == at::kDouble ? x : x.to(at::kFloat);
    at::Tensor r = at::rsqrt(xf.pow(2).mean(-1, true) + eps);
    return w * (xf * r).to(x.scalar_type());
}

} // namespace

struct Decoder::Impl
{
    std::shared_ptr<const ModelHandle> model;
    DecoderOptions options;
    Architecture arch;
    at::Tensor embedding, norm, lmHead;
    std::vector<Block> blocks;
    at::Tensor invFreq;
    std::uint64_t ownedBytes = 0;

    // Where weights come from: the memory-mapped model or an in-memory map.
    std::function<at::Tensor(const std::string &)> fetch;
    std::map<std::string, at::Tensor> named;

    at::Tensor load(const std::string &name, bool required = true)
    {
        at::Tensor w = fetch(name);
        if (!w.defined()) {
            if (required)
                throw std::invalid_argument("tensor " + name + " is missing");
            return {};
        }
        named[name] = w;
        return w;
    }

    at::Tensor loadFromModel(const std::string &name)
    {
        const TensorInfo *t = model->find(name);
        if (!t)
            return {};
        at::Tensor raw = weightTensor(model, *t, options.dtype, options.device);
        at::Tensor w = raw.to(options.device, options.dtype);
        if (w.data_ptr() != raw.data_ptr() || dtypeIsBlockQuantised(t->dtype))
            ownedBytes += static_cast<std::uint64_t>(w.numel() * w.element_size());
        return w;
    }

    void build()
    {
        const Architecture &a = arch;
        embedding = load("model.embed_tokens.weight");
        norm = load("model.norm.weight");
        lmHead = a.tiedEmbeddings ? embedding : load("lm_head.weight");
        for (int l = 0; l < a.layers; ++l) {
            const std::string p = layerPrefix(l);
            Block b;
            b.attnNorm = load(p + "input_layernorm.weight");
            b.mlpNorm = load(p + "post_attention_layernorm.weight");
            auto lin = [&](const std::string &n, bool bias) {
                return Linear{load(p + n + ".weight"), bias ? load(p + n + ".bias") : at::Tensor()};
            };
            const bool qkvBias = a.qkvBias || a.attentionBias;
            b.q = lin("self_attn.q_proj", qkvBias);
            b.k = lin("self_attn.k_proj", qkvBias);
            b.v = lin("self_attn.v_proj", qkvBias);
            b.o = lin("self_attn.o_proj", a.attentionBias);
            b.gate = lin("mlp.gate_proj", a.mlpBias);
            b.up = lin("mlp.up_proj", a.mlpBias);
            b.down = lin("mlp.down_proj", a.mlpBias);
            blocks.push_back(std::move(b));
        }
        invFreq = ropeInverseFrequencies(a);
    }

    at::Tensor attention(const Block &b, const at::Tensor &x, const RopeTables &rope, int layer, ForwardCapture *cap,
        std::int64_t positionOffset) const
    {
        const auto B = x.size(0), T = x.size(1);
        const auto H = arch.heads, Hkv = arch.kvHeads, hd = arch.headDim;
        const at::Tensor qRaw = b.q(x).view({B, T, H, hd});
        const at::Tensor kRaw = b.k(x).view({B, T, Hkv, hd});
        at::Tensor v = b.v(x).view({B, T, Hkv, hd}).transpose(1, 2);
        at::Tensor q = applyRope(qRaw.transpose(1, 2), rope.cos, rope.sin, arch.ropeLayout);
        at::Tensor k = applyRope(kRaw.transpose(1, 2), rope.cos, rope.sin, arch.ropeLayout);
        const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
        if (cap && cap->attentionHook) {
            AttentionInputs in{layer, qRaw, kRaw, q, k, v, scale, positionOffset};
            at::Tensor replaced = cap->attentionHook(in);
            if (replaced.defined())
                return b.o(replaced.to(x.scalar_type()).transpose(1, 2).reshape({B, T, H * hd}));
        }
        if (Hkv != H) { // query head h reads KV head h / (H / Hkv)
            k = k.repeat_interleave(H / Hkv, 1);
            v = v.repeat_interleave(H / Hkv, 1);
        }
        const bool windowed = arch.slidingWindow && T > *arch.slidingWindow;
        const bool wantProbs = cap && cap->attention != ForwardCapture::Attention::None;
        at::Tensor out;
        if (!wantProbs && !windowed) {
            out = at::scaled_dot_product_attention(q, k, v, {}, 0.0, true, scale);
        } else {
            out = explicitAttention(q, k, v, scale, layer, cap);
        }
        return b.o(out.transpose(1, 2).reshape({B, T, H * hd}));
    }

    // Boolean [rows, T] mask of keys each query row may see (causal, sliding window if any).
    at::Tensor allowedKeys(std::int64_t rowStart, std::int64_t rows, std::int64_t T, const at::Device &dev) const
    {
        at::Tensor i
            = at::arange(rowStart, rowStart + rows, at::TensorOptions().dtype(at::kLong).device(dev)).unsqueeze(1);
        at::Tensor j = at::arange(T, at::TensorOptions().dtype(at::kLong).device(dev)).unsqueeze(0);
        at::Tensor ok = j <= i;
        if (arch.slidingWindow)
            ok = ok & ((i - j) < *arch.slidingWindow);
        return ok;
    }

    // Attention computed explicitly, one tile of query rows at a time, so that the probabilities
    // can be captured (fully for short sequences, pooled for long ones) without holding T x T.
    at::Tensor explicitAttention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, double scale, int layer,
        ForwardCapture *cap) const
    {
        const auto B = q.size(0), H = q.size(1), T = q.size(2);
        const auto mode = cap ? cap->attention : ForwardCapture::Attention::None;
        const std::int64_t tile = cap && cap->poolTile > 0 ? cap->poolTile : 64;
        const std::int64_t rowsPerStep = mode == ForwardCapture::Attention::Full ? T : tile;
        const std::int64_t nTiles = (T + tile - 1) / tile;
        at::Tensor probsAll, pooledMax, pooledSum;
        auto f32 = at::TensorOptions().dtype(at::kFloat).device(q.device());
        if (mode == ForwardCapture::Attention::Full)
            probsAll = at::empty({B, H, T, T}, f32);
        if (mode == ForwardCapture::Attention::Pooled) {
            pooledMax = at::zeros({B, H, nTiles, nTiles}, f32);
            pooledSum = at::zeros({B, H, nTiles, nTiles}, f32);
        }
        std::vector<at::Tensor> outs;
        const auto work = q.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
        at::Tensor kT = k.transpose(-2, -1).to(work);
        at::Tensor vf = v.to(work);
        for (std::int64_t r0 = 0; r0 < T; r0 += rowsPerStep) {
            const std::int64_t rows = std::min(rowsPerStep, T - r0);
            at::Tensor scores = at::matmul(q.narrow(2, r0, rows).to(work), kT) * scale; // [B,H,rows,T]
            scores = scores.masked_fill(allowedKeys(r0, rows, T, q.device()).logical_not(), -INFINITY);
            at::Tensor p = at::softmax(scores, -1);
            outs.push_back(at::matmul(p, vf));
            if (mode == ForwardCapture::Attention::Full)
                probsAll.narrow(2, r0, rows).copy_(p);
            if (mode == ForwardCapture::Attention::Pooled) {
                // Pad keys to whole tiles and pool over them: [B,H,rows,nTiles].
                at::Tensor padded
                    = at::constant_pad_nd(p, {0, nTiles * tile - T}, 0.0).view({B, H, rows, nTiles, tile});
                at::Tensor rowMax = std::get<0>(padded.max(-1)), rowSum = padded.sum(-1);
                const std::int64_t ti = r0 / tile;
                pooledMax.select(2, ti).copy_(std::get<0>(rowMax.max(2)));
                pooledSum.select(2, ti).copy_(rowSum.sum(2));
            }
        }
        if (cap) {
            if (mode == ForwardCapture::Attention::Full)
                cap->attention_probs[layer] = probsAll;
            if (mode == ForwardCapture::Attention::Pooled) {
                cap->attention_pooled_max[layer] = pooledMax;
                cap->attention_pooled_sum[layer] = pooledSum;
            }
        }
        return at::cat(outs, 2).to(q.scalar_type());
    }

    at::Tensor mlp(const Block &b, const at::Tensor &x) const { return b.down(at::silu(b.gate(x)) * b.up(x)); }
};

Decoder::Decoder(std::shared_ptr<const ModelHandle> model, DecoderOptions options)
    : d(std::make_unique<Impl>())
{
    d->model = std::move(model);
    d->options = options;
    d->arch = d->model->architecture();
    if (!d->model->architectureComplete())
        throw std::invalid_argument(
            d->model->path() + ": the number of heads is unknown (no config.json), so the model cannot run");
    if (options.device.is_cuda() && !cudaAvailable())
        throw std::invalid_argument("CUDA was requested but " + std::string(deviceSummary()));
    for (const auto &t : d->model->tensors())
        if (t.role != TensorRole::Other && !t.loadable)
            throw std::invalid_argument("tensor " + t.name + " is stored as " + t.storageType
                + ", which Blockscope cannot compute with (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, "
                  "Q2_K to Q6_K, IQ4_NL and IQ4_XS can)");
    d->fetch = [this](const std::string &name) { return d->loadFromModel(name); };
    d->build();
}

Decoder::Decoder(
    const Architecture &architecture, const std::map<std::string, at::Tensor> &weights, DecoderOptions options)
    : d(std::make_unique<Impl>())
{
    d->options = options;
    d->arch = architecture;
    d->fetch = [&weights](const std::string &name) {
        auto it = weights.find(name);
        return it == weights.end() ? at::Tensor() : it->second;
    };
    d->build();
    d->fetch = nullptr; // `weights` is only borrowed during construction
}

std::map<std::string, at::Tensor> Decoder::namedWeights() const
{
    return d->named;
}

Decoder::~Decoder() = default;

const Architecture &Decoder::architecture() const
{
    return d->arch;
}
const DecoderOptions &Decoder::options() const
{
    return d->options;
}
int Decoder::layers() const
{
    return static_cast<int>(d->arch.layers);
}
std::uint64_t Decoder::ownedWeightBytes() const
{
    return d->ownedBytes;
}

at::Tensor Decoder::embed(const at::Tensor &tokens) const
{
    TORCH_CHECK(tokens.dim() == 2, "tokens must be [batch, length]");
    at::Tensor ids = tokens.to(d->options.device, at::kLong);
    const auto V = d->arch.vocab;
    if (ids.numel() > 0) {
        const auto mn = ids.min().item<std::int64_t>(), mx = ids.max().item<std::int64_t>();
        if (mn < 0 || mx >= V)
            throw std::invalid_argument(
                "token id " + std::to_string(mn < 0 ? mn : mx) + " is outside the vocabulary of " + std::to_string(V));
    }
    return at::embedding(d->embedding, ids);
}

at::Tensor Decoder::forwardBlocks(
    at::Tensor h, int first, int last, const UnitMask &mask, ForwardCapture *cap, std::int64_t positionOffset) const
{
    TORCH_CHECK(mask.layers() == layers(), "unit mask has ", mask.layers(), " layers, the model ", layers());
    TORCH_CHECK(0 <= first && first <= last && last <= layers(), "block range out of bounds");
    const auto T = h.size(1);
    const RopeTables rope = ropeTables(d->invFreq, positionOffset, T);
    if (cap) {
        if (cap->hiddenStates && cap->hidden.size() != static_cast<std::size_t>(layers() + 1))
            cap->hidden.resize(layers() + 1);
        cap->attention_probs.resize(layers());
        cap->attention_pooled_max.resize(layers());
        cap->attention_pooled_sum.resize(layers());
        if (cap->hiddenStates)
            cap->hidden[first] = h;
    }
    const double eps = d->arch.rmsNormEps;
    for (int l = first; l < last; ++l) {
        const Block &b = d->blocks[l];
        if (!mask.skipAttn[l])
            h = h + d->attention(b, rmsNorm(h, b.attnNorm, eps), rope, l, cap, positionOffset);
        if (!mask.skipMlp[l])
            h = h + d->mlp(b, rmsNorm(h, b.mlpNorm, eps));
        if (cap && cap->hiddenStates)
            cap->hidden[l + 1] = h;
    }
    return h;
}

at::Tensor Decoder::finalNorm(const at::Tensor &hidden) const
{
    return rmsNorm(hidden, d->norm, d->arch.rmsNormEps);
}

at::Tensor Decoder::logits(const at::Tensor &hidden) const
{
    at::Tensor z = at::linear(finalNorm(hidden), d->lmHead);
    return z.scalar_type() == at::kDouble ? z : z.to(at::kFloat);
}

at::Tensor Decoder::forward(const at::Tensor &tokens, const UnitMask &mask, ForwardCapture *capture) const
{
    return logits(forwardBlocks(embed(tokens), 0, layers(), mask, capture));
}

} // namespace blockscope
