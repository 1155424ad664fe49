#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>

#include <cstdint>
#include <vector>

namespace blockscope::test {

// A safetensors file from a header text and a data buffer: uint64 header length, header, buffer.
QByteArray safetensorsFile(const QByteArray &header, const QByteArray &buffer);

// Writes valid safetensors files with packed, ordered tensors for tests that need a working
// model; hostile rows write their header text by hand with safetensorsFile().
class SafetensorsBuilder
{
public:
    struct Entry
    {
        QByteArray name;
        QByteArray dtype;
        std::vector<std::int64_t> shape;
        QByteArray data;
    };

    SafetensorsBuilder &add(
        const QByteArray &name, const QByteArray &dtype, std::vector<std::int64_t> shape, const QByteArray &data);
    bool remove(const QByteArray &name);
    QByteArray headerJson() const;
    QByteArray build() const;

    std::vector<Entry> entries;
};

// The tiny Llama of tinyLlamaGguf() with Hugging Face names: hidden 32, 4 heads (2 KV), FFN 64,
// 1 block, vocab 16, with lm_head.weight.
SafetensorsBuilder tinyLlamaSafetensors();

// config.json fields as raw JSON values, in order; configJson() joins them into an object.
// Keeping them raw lets a test write what a JSON library would refuse to (NaN, duplicate keys).
using ConfigFields = QList<QPair<QByteArray, QByteArray>>;
ConfigFields tinyLlamaConfigFields();
QByteArray configJson(const ConfigFields &fields);
// Replaces the value of `key` (or appends it); a null QByteArray removes it.
void setField(ConfigFields &fields, const QByteArray &key, const QByteArray &rawValue);

} // namespace blockscope::test
