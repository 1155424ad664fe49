#include "tensornames.h"

#include <charconv>

namespace blockscope {

std::string layerPrefix(int layer)
{
    return "model.layers." + std::to_string(layer) + ".";
}

namespace {

// Parses "<prefix><int>.<rest>" and returns the integer and rest.
bool splitIndexed(std::string_view name, std::string_view prefix, int &index, std::string_view &rest)
{
    if (name.substr(0, prefix.size()) != prefix)
        return false;
    name.remove_prefix(prefix.size());
    const auto dot = name.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot > 6)
        return false;
    auto [ptr, ec] = std::from_chars(name.data(), name.data() + dot, index);
    if (ec != std::errc() || ptr != name.data() + dot || index < 0)
        return false;
    rest = name.substr(dot + 1);
    return true;
}

} // namespace

TensorPlace classifyTensorName(std::string_view n)
{
    if (n == "model.embed_tokens.weight")
        return {TensorRole::Embedding, -1};
    if (n == "model.norm.weight")
        return {TensorRole::FinalNorm, -1};
    if (n == "lm_head.weight")
        return {TensorRole::LmHead, -1};
    int layer = 0;
    std::string_view rest;
    if (splitIndexed(n, "model.layers.", layer, rest)) {
        if (rest.substr(0, 10) == "self_attn." && rest.find("rotary_emb") == std::string_view::npos)
            return {TensorRole::Attention, layer};
        if (rest == "input_layernorm.weight")
            return {TensorRole::Attention, layer};
        if (rest.substr(0, 4) == "mlp." || rest == "post_attention_layernorm.weight")
            return {TensorRole::Mlp, layer};
    }
    return {TensorRole::Other, -1};
}

namespace {
struct GgufHfPair
{
    std::string_view gguf, hf;
};
constexpr GgufHfPair blockNames[] = {
    {"attn_norm.weight", "input_layernorm.weight"},
    {"attn_q.weight", "self_attn.q_proj.weight"},
    {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_v.weight", "self_attn.v_proj.weight"},
    {"attn_output.weight", "self_attn.o_proj.weight"},
    {"attn_q.bias", "self_attn.q_proj.bias"},
    {"attn_k.bias", "self_attn.k_proj.bias"},
    {"attn_v.bias", "self_attn.v_proj.bias"},
    {"attn_output.bias", "self_attn.o_proj.bias"},
    {"ffn_norm.weight", "post_attention_layernorm.weight"},
    {"ffn_gate.weight", "mlp.gate_proj.weight"},
    {"ffn_up.weight", "mlp.up_proj.weight"},
    {"ffn_down.weight", "mlp.down_proj.weight"},
};
constexpr GgufHfPair globalNames[] = {
    {"token_embd.weight", "model.embed_tokens.weight"},
    {"output_norm.weight", "model.norm.weight"},
    {"output.weight", "lm_head.weight"},
};
} // namespace

std::optional<std::string> ggufToHfName(std::string_view g)
{
    for (const auto &m : globalNames)
        if (g == m.gguf)
            return std::string(m.hf);
    int layer = 0;
    std::string_view rest;
    if (!splitIndexed(g, "blk.", layer, rest))
        return std::nullopt;
    for (const auto &m : blockNames)
        if (rest == m.gguf)
            return layerPrefix(layer) + std::string(m.hf);
    return std::nullopt;
}

std::optional<std::string> hfToGgufName(std::string_view h)
{
    for (const auto &m : globalNames)
        if (h == m.hf)
            return std::string(m.gguf);
    int layer = 0;
    std::string_view rest;
    if (!splitIndexed(h, "model.layers.", layer, rest))
        return std::nullopt;
    for (const auto &m : blockNames)
        if (rest == m.hf)
            return "blk." + std::to_string(layer) + "." + std::string(m.gguf);
    return std::nullopt;
}

std::map<std::string, ExpectedTensor> expectedTensors(const Architecture &a)
{
    std::map<std::string, ExpectedTensor> e;
    const std::int64_t d = a.hidden, ff = a.intermediate, V = a.vocab;
    const std::int64_t q = a.heads * a.headDim, kv = a.kvHeads * a.headDim;
    e["model.embed_tokens.weight"] = {{V, d}};
    e["model.norm.weight"] = {{d}};
    e["lm_head.weight"] = {{V, d}, !a.tiedEmbeddings};
    for (int l = 0; l < a.layers; ++l) {
        const std::string p = layerPrefix(l);
        e[p + "input_layernorm.weight"] = {{d}};
        e[p + "post_attention_layernorm.weight"] = {{d}};
        e[p + "self_attn.q_proj.weight"] = {{q, d}};
        e[p + "self_attn.k_proj.weight"] = {{kv, d}};
        e[p + "self_attn.v_proj.weight"] = {{kv, d}};
        e[p + "self_attn.o_proj.weight"] = {{d, q}};
        const bool qkvBias = a.qkvBias || a.attentionBias;
        e[p + "self_attn.q_proj.bias"] = {{q}, qkvBias};
        e[p + "self_attn.k_proj.bias"] = {{kv}, qkvBias};
        e[p + "self_attn.v_proj.bias"] = {{kv}, qkvBias};
        e[p + "self_attn.o_proj.bias"] = {{d}, a.attentionBias};
        e[p + "mlp.gate_proj.weight"] = {{ff, d}};
        e[p + "mlp.up_proj.weight"] = {{ff, d}};
        e[p + "mlp.down_proj.weight"] = {{d, ff}};
        e[p + "mlp.gate_proj.bias"] = {{ff}, a.mlpBias};
        e[p + "mlp.up_proj.bias"] = {{ff}, a.mlpBias};
        e[p + "mlp.down_proj.bias"] = {{d}, a.mlpBias};
    }
    return e;
}

} // namespace blockscope
