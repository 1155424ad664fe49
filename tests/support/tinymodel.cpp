#include "tinymodel.h"

#include "eval/protocol.h"
#include "model/decoder.h"

#include <ATen/ATen.h>

#include <random>

namespace blockscope::test {

Architecture tinyArchitecture(const TinyShape &s)
{
    Architecture a;
    a.family = "llama";
    a.layers = s.layers;
    a.hidden = s.hidden;
    a.intermediate = s.intermediate;
    a.heads = s.heads;
    a.kvHeads = s.kvHeads;
    a.headDim = s.headDim;
    a.vocab = s.vocab;
    a.context = s.context;
    a.ropeLayout = s.rope;
    return a;
}

std::map<std::string, at::Tensor> tinyWeights(const TinyShape &s, std::uint64_t seed, const std::set<int> &identity)
{
    at::manual_seed(seed);
    std::map<std::string, at::Tensor> w;
    auto rnd = [](std::vector<std::int64_t> shape, double scale) { return at::randn(shape) * scale; };
    const std::int64_t d = s.hidden, q = s.heads * s.headDim, kv = s.kvHeads * s.headDim, f = s.intermediate;
    w["model.embed_tokens.weight"] = rnd({s.vocab, d}, 1.0);
    w["model.norm.weight"] = at::ones({d}) + rnd({d}, 0.1);
    w["lm_head.weight"] = rnd({s.vocab, d}, 0.3);
    for (int l = 0; l < s.layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        w[p + "input_layernorm.weight"] = at::ones({d}) + rnd({d}, 0.1);
        w[p + "post_attention_layernorm.weight"] = at::ones({d}) + rnd({d}, 0.1);
        w[p + "self_attn.q_proj.weight"] = rnd({q, d}, 0.3);
        w[p + "self_attn.k_proj.weight"] = rnd({kv, d}, 0.3);
        w[p + "self_attn.v_proj.weight"] = rnd({kv, d}, 0.3);
        w[p + "self_attn.o_proj.weight"] = identity.count(l) ? at::zeros({d, q}) : rnd({d, q}, 0.3);
        w[p + "mlp.gate_proj.weight"] = rnd({f, d}, 0.3);
        w[p + "mlp.up_proj.weight"] = rnd({f, d}, 0.3);
        w[p + "mlp.down_proj.weight"] = identity.count(l) ? at::zeros({d, f}) : rnd({d, f}, 0.3);
    }
    return w;
}

std::unique_ptr<Decoder> tinyDecoder(const TinyShape &s, std::uint64_t seed, const std::set<int> &identity)
{
    return std::make_unique<Decoder>(tinyArchitecture(s), tinyWeights(s, seed, identity));
}

WindowSet randomWindows(int n, int T, std::uint64_t seed, int vocab)
{
    std::mt19937_64 rng(seed);
    WindowSet set;
    set.protocol = protocolPreset("tiny-ts");
    set.protocol.context = set.protocol.stride = T;
    for (int w = 0; w < n; ++w) {
        TokenWindow t;
        t.ids.push_back(1);
        for (int p = 1; p < T; ++p)
            t.ids.push_back(static_cast<std::int32_t>(rng() % static_cast<std::uint64_t>(vocab)));
        set.windows.push_back(std::move(t));
    }
    return set;
}

at::Tensor tokensOf(const TokenWindow &w)
{
    at::Tensor t = at::empty({1, static_cast<std::int64_t>(w.ids.size())}, at::kLong);
    for (std::size_t p = 0; p < w.ids.size(); ++p)
        t[0][static_cast<std::int64_t>(p)] = w.ids[p];
    return t;
}

} // namespace blockscope::test
