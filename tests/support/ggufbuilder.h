#pragma once

#include <QByteArray>
#include <QList>

#include <cstdint>
#include <optional>
#include <vector>

namespace blockscope::test {

// Little-endian encodings used to hand-write checkpoint bytes in tests.
QByteArray leU32(std::uint32_t v);
QByteArray leU64(std::uint64_t v);
QByteArray leF32(float v);
QByteArray leU16(std::uint16_t v);
// A GGUF string: uint64 length, then the bytes.
QByteArray ggufString(const QByteArray &s);

// GGUF metadata value type ids (formats.md §4).
namespace gguf {
enum ValueType : std::uint32_t { U8, I8, U16, I16, U32, I32, F32, Bool, String, Array, U64, I64, F64 };
enum TensorType : std::uint32_t { TF32 = 0, TF16 = 1, TQ8_0 = 8, TQ4_K = 12, TBF16 = 30 };
} // namespace gguf

// Writes small GGUF files for tests. It produces valid files by default; the public knobs
// (magic, version, counts, explicit offsets, raw key/value payloads) let a test break exactly
// one thing at a time, which is what each hostile-input row needs.
class GgufBuilder
{
public:
    struct Tensor
    {
        QByteArray name;
        std::vector<std::uint64_t> ne;
        std::uint32_t type = gguf::TF32;
        QByteArray data;
        std::optional<std::uint64_t> offset; // relative to the data section; else packed
    };

    QByteArray magic = "GGUF";
    std::uint32_t version = 3;
    std::optional<std::uint64_t> tensorCountOverride;
    std::optional<std::uint64_t> kvCountOverride;
    std::uint64_t alignment = 32; // layout only; write general.alignment with addU32 to state it

    GgufBuilder &addRaw(const QByteArray &key, std::uint32_t type, const QByteArray &payload);
    GgufBuilder &addU32(const QByteArray &key, std::uint32_t v);
    GgufBuilder &addI32(const QByteArray &key, std::int32_t v);
    GgufBuilder &addF32(const QByteArray &key, float v);
    GgufBuilder &addString(const QByteArray &key, const QByteArray &v);
    GgufBuilder &addStringArray(const QByteArray &key, const QList<QByteArray> &v);
    GgufBuilder &addF32Array(const QByteArray &key, const std::vector<float> &v);
    GgufBuilder &addI32Array(const QByteArray &key, const std::vector<std::int32_t> &v);
    GgufBuilder &addTensor(Tensor t);
    bool removeKey(const QByteArray &key);
    Tensor *tensor(const QByteArray &name);

    QByteArray build() const;

    // Byte count of everything before the data section's padding (for offset assertions).
    std::uint64_t infoEnd() const;

private:
    struct Kv
    {
        QByteArray key;
        std::uint32_t type;
        QByteArray payload;
    };
    QByteArray headerAndInfos() const;
    std::vector<std::uint64_t> offsets() const;

    std::vector<Kv> m_kvs;
    std::vector<Tensor> m_tensors;
};

// F32 bytes of `n` values start, start + step, ...
QByteArray f32Ramp(std::uint64_t n, float start = 0.0f, float step = 0.01f);

// A valid tiny "llama" GGUF: hidden 32, 4 heads (2 KV), head dim 8, FFN 64, 1 block, vocab 16,
// context 128, F32 tensors filled with ramps, a 16-token tokenizer and a separate output.weight.
GgufBuilder tinyLlamaGguf();

} // namespace blockscope::test
