#include "ggufbuilder.h"

#include <algorithm>
#include <cstring>

namespace blockscope::test {

namespace {
template<typename T>
QByteArray le(T v)
{
    return QByteArray(reinterpret_cast<const char *>(&v), sizeof v); // tests run on little-endian hosts only
}
} // namespace

QByteArray leU32(std::uint32_t v)
{
    return le(v);
}
QByteArray leU64(std::uint64_t v)
{
    return le(v);
}
QByteArray leF32(float v)
{
    return le(v);
}
QByteArray leU16(std::uint16_t v)
{
    return le(v);
}
QByteArray ggufString(const QByteArray &s)
{
    return leU64(static_cast<std::uint64_t>(s.size())) + s;
}

GgufBuilder &GgufBuilder::addRaw(const QByteArray &key, std::uint32_t type, const QByteArray &payload)
{
    m_kvs.push_back({key, type, payload});
    return *this;
}

GgufBuilder &GgufBuilder::addU32(const QByteArray &key, std::uint32_t v)
{
    return addRaw(key, gguf::U32, le(v));
}
GgufBuilder &GgufBuilder::addI32(const QByteArray &key, std::int32_t v)
{
    return addRaw(key, gguf::I32, le(v));
}
GgufBuilder &GgufBuilder::addF32(const QByteArray &key, float v)
{
    return addRaw(key, gguf::F32, le(v));
}
GgufBuilder &GgufBuilder::addString(const QByteArray &key, const QByteArray &v)
{
    return addRaw(key, gguf::String, ggufString(v));
}

GgufBuilder &GgufBuilder::addStringArray(const QByteArray &key, const QList<QByteArray> &v)
{
    QByteArray p = leU32(gguf::String) + leU64(v.size());
    for (const auto &s : v)
        p += ggufString(s);
    return addRaw(key, gguf::Array, p);
}

GgufBuilder &GgufBuilder::addF32Array(const QByteArray &key, const std::vector<float> &v)
{
    QByteArray p = leU32(gguf::F32) + leU64(v.size());
    for (float x : v)
        p += le(x);
    return addRaw(key, gguf::Array, p);
}

GgufBuilder &GgufBuilder::addI32Array(const QByteArray &key, const std::vector<std::int32_t> &v)
{
    QByteArray p = leU32(gguf::I32) + leU64(v.size());
    for (auto x : v)
        p += le(x);
    return addRaw(key, gguf::Array, p);
}

GgufBuilder &GgufBuilder::addTensor(Tensor t)
{
    m_tensors.push_back(std::move(t));
    return *this;
}

bool GgufBuilder::removeKey(const QByteArray &key)
{
    const auto before = m_kvs.size();
    m_kvs.erase(std::remove_if(m_kvs.begin(), m_kvs.end(), [&](const Kv &kv) { return kv.key == key; }), m_kvs.end());
    return m_kvs.size() != before;
}

GgufBuilder::Tensor *GgufBuilder::tensor(const QByteArray &name)
{
    for (auto &t : m_tensors)
        if (t.name == name)
            return &t;
    return nullptr;
}

std::vector<std::uint64_t> GgufBuilder::offsets() const
{
    std::vector<std::uint64_t> r;
    std::uint64_t next = 0;
    for (const auto &t : m_tensors) {
        const std::uint64_t at = t.offset.value_or(next);
        r.push_back(at);
        next = (at + static_cast<std::uint64_t>(t.data.size()) + alignment - 1) / alignment * alignment;
    }
    return r;
}

QByteArray GgufBuilder::headerAndInfos() const
{
    QByteArray b = magic + leU32(version) + leU64(tensorCountOverride.value_or(m_tensors.size()))
        + leU64(kvCountOverride.value_or(m_kvs.size()));
    for (const auto &kv : m_kvs)
        b += ggufString(kv.key) + leU32(kv.type) + kv.payload;
    const auto offs = offsets();
    for (std::size_t i = 0; i < m_tensors.size(); ++i) {
        const Tensor &t = m_tensors[i];
        b += ggufString(t.name) + leU32(static_cast<std::uint32_t>(t.ne.size()));
        for (auto d : t.ne)
            b += leU64(d);
        b += leU32(t.type) + leU64(offs[i]);
    }
    return b;
}

std::uint64_t GgufBuilder::infoEnd() const
{
    return static_cast<std::uint64_t>(headerAndInfos().size());
}

QByteArray GgufBuilder::build() const
{
    QByteArray b = headerAndInfos();
    const qsizetype dataStart = static_cast<qsizetype>((b.size() + alignment - 1) / alignment * alignment);
    b.append(dataStart - b.size(), '\0');
    const auto offs = offsets();
    for (std::size_t i = 0; i < m_tensors.size(); ++i) {
        // Offsets far past any real file are what some hostile rows test: write no data for them.
        if (offs[i] > (std::uint64_t(1) << 26))
            continue;
        const qsizetype at = dataStart + static_cast<qsizetype>(offs[i]);
        const QByteArray &d = m_tensors[i].data;
        if (b.size() < at + d.size())
            b.append(at + d.size() - b.size(), '\0');
        std::memcpy(b.data() + at, d.constData(), static_cast<std::size_t>(d.size()));
    }
    return b;
}

QByteArray f32Ramp(std::uint64_t n, float start, float step)
{
    QByteArray b;
    b.reserve(static_cast<qsizetype>(n * 4));
    for (std::uint64_t i = 0; i < n; ++i)
        b += leF32(start + step * static_cast<float>(i % 97));
    return b;
}

GgufBuilder tinyLlamaGguf()
{
    constexpr std::uint64_t d = 32, ff = 64, V = 16, q = 4 * 8, kv = 2 * 8;
    GgufBuilder g;
    g.addString("general.architecture", "llama");
    g.addU32("llama.context_length", 128);
    g.addU32("llama.embedding_length", d);
    g.addU32("llama.block_count", 1);
    g.addU32("llama.feed_forward_length", ff);
    g.addU32("llama.attention.head_count", 4);
    g.addU32("llama.attention.head_count_kv", 2);
    g.addF32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    g.addU32("llama.rope.dimension_count", 8);
    g.addString("tokenizer.ggml.model", "llama");
    QList<QByteArray> tokens;
    std::vector<float> scores;
    std::vector<std::int32_t> types;
    for (std::uint64_t i = 0; i < V; ++i) {
        tokens << QByteArray("t") + QByteArray::number(static_cast<qulonglong>(i));
        scores.push_back(-static_cast<float>(i));
        types.push_back(1);
    }
    g.addStringArray("tokenizer.ggml.tokens", tokens);
    g.addF32Array("tokenizer.ggml.scores", scores);
    g.addI32Array("tokenizer.ggml.token_type", types);
    g.addU32("tokenizer.ggml.bos_token_id", 1);
    g.addU32("tokenizer.ggml.eos_token_id", 2);

    auto add = [&](const char *name, std::vector<std::uint64_t> ne) {
        std::uint64_t n = 1;
        for (auto x : ne)
            n *= x;
        g.addTensor({name, std::move(ne), gguf::TF32, f32Ramp(n, -0.5f), std::nullopt});
    };
    add("token_embd.weight", {d, V});
    add("blk.0.attn_norm.weight", {d});
    add("blk.0.attn_q.weight", {d, q});
    add("blk.0.attn_k.weight", {d, kv});
    add("blk.0.attn_v.weight", {d, kv});
    add("blk.0.attn_output.weight", {q, d});
    add("blk.0.ffn_norm.weight", {d});
    add("blk.0.ffn_gate.weight", {d, ff});
    add("blk.0.ffn_up.weight", {d, ff});
    add("blk.0.ffn_down.weight", {ff, d});
    add("output_norm.weight", {d});
    add("output.weight", {d, V});
    return g;
}

} // namespace blockscope::test
