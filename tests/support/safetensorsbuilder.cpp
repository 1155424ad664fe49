#include "safetensorsbuilder.h"

#include "ggufbuilder.h"

#include <algorithm>

namespace blockscope::test {

QByteArray safetensorsFile(const QByteArray &header, const QByteArray &buffer)
{
    return leU64(static_cast<std::uint64_t>(header.size())) + header + buffer;
}

SafetensorsBuilder &SafetensorsBuilder::add(
    const QByteArray &name, const QByteArray &dtype, std::vector<std::int64_t> shape, const QByteArray &data)
{
    entries.push_back({name, dtype, std::move(shape), data});
    return *this;
}

bool SafetensorsBuilder::remove(const QByteArray &name)
{
    const auto before = entries.size();
    entries.erase(
        std::remove_if(entries.begin(), entries.end(), [&](const Entry &e) { return e.name == name; }), entries.end());
    return entries.size() != before;
}

QByteArray SafetensorsBuilder::headerJson() const
{
    QByteArray h = R"({"__metadata__":{"format":"pt"})";
    qsizetype offset = 0;
    for (const auto &e : entries) {
        QByteArray shape;
        for (std::size_t i = 0; i < e.shape.size(); ++i)
            shape += (i ? "," : "") + QByteArray::number(static_cast<qlonglong>(e.shape[i]));
        h += ",\"" + e.name + "\":{\"dtype\":\"" + e.dtype + "\",\"shape\":[" + shape + "],\"data_offsets\":["
            + QByteArray::number(offset) + "," + QByteArray::number(offset + e.data.size()) + "]}";
        offset += e.data.size();
    }
    return h + "}";
}

QByteArray SafetensorsBuilder::build() const
{
    QByteArray data;
    for (const auto &e : entries)
        data += e.data;
    return safetensorsFile(headerJson(), data);
}

SafetensorsBuilder tinyLlamaSafetensors()
{
    constexpr std::int64_t d = 32, ff = 64, V = 16, q = 4 * 8, kv = 2 * 8;
    SafetensorsBuilder b;
    auto add = [&](const char *name, std::vector<std::int64_t> shape) {
        std::uint64_t n = 1;
        for (auto x : shape)
            n *= static_cast<std::uint64_t>(x);
        b.add(name, "F32", std::move(shape), f32Ramp(n, -0.5f));
    };
    add("model.embed_tokens.weight", {V, d});
    add("model.layers.0.input_layernorm.weight", {d});
    add("model.layers.0.self_attn.q_proj.weight", {q, d});
    add("model.layers.0.self_attn.k_proj.weight", {kv, d});
    add("model.layers.0.self_attn.v_proj.weight", {kv, d});
    add("model.layers.0.self_attn.o_proj.weight", {d, q});
    add("model.layers.0.post_attention_layernorm.weight", {d});
    add("model.layers.0.mlp.gate_proj.weight", {ff, d});
    add("model.layers.0.mlp.up_proj.weight", {ff, d});
    add("model.layers.0.mlp.down_proj.weight", {d, ff});
    add("model.norm.weight", {d});
    add("lm_head.weight", {V, d});
    return b;
}

ConfigFields tinyLlamaConfigFields()
{
    return {
        {"architectures", R"(["LlamaForCausalLM"])"},
        {"model_type", R"("llama")"},
        {"hidden_size", "32"},
        {"intermediate_size", "64"},
        {"num_hidden_layers", "1"},
        {"num_attention_heads", "4"},
        {"num_key_value_heads", "2"},
        {"vocab_size", "16"},
        {"max_position_embeddings", "128"},
        {"tie_word_embeddings", "false"},
    };
}

QByteArray configJson(const ConfigFields &fields)
{
    QByteArray j = "{";
    for (qsizetype i = 0; i < fields.size(); ++i)
        j += (i ? ",\n  \"" : "\n  \"") + fields[i].first + "\": " + fields[i].second;
    return j + "\n}\n";
}

void setField(ConfigFields &fields, const QByteArray &key, const QByteArray &rawValue)
{
    for (qsizetype i = 0; i < fields.size(); ++i) {
        if (fields[i].first == key) {
            if (rawValue.isNull())
                fields.removeAt(i);
            else
                fields[i].second = rawValue;
            return;
        }
    }
    if (!rawValue.isNull())
        fields.append({key, rawValue});
}

} // namespace blockscope::test
