// GGUF reader (formats.md §4): the stories260K facts, value conversion of the storage types the
// engine computes with, and every item of the hostile-input checklist as a hand-made file.
#include "common/formaterror.h"
#include "ggufbuilder.h"
#include "hostile.h"
#include "model/checkpointreaders.h"
#include "model/modelhandle.h"
#include "model/tensorstats.h"
#include "model/tensorvalues.h"
#include "testdata.h"

#include <QTest>

#include <cmath>
#include <cstring>
#include <sys/stat.h>

using namespace blockscope;
using namespace blockscope::test;

namespace {

// The values ffn_up (ne [32, 64], 2048 elements) is filled with in the storage-type rows.
constexpr std::uint64_t upElements = 32 * 64;

} // namespace

class TestGgufReader : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void stories260K()
    {
        BLOCKSCOPE_REQUIRE_DATA(path, "models/stories260K/stories260K.gguf");
        const QByteArray bytes = readFile(path);
        std::uint32_t version = 0;
        std::memcpy(&version, bytes.constData() + 4, 4);
        QCOMPARE(version, 3u);
        QCOMPARE(bytes.size(), 1185376);

        auto m = ModelHandle::open(path.toStdString());
        QCOMPARE(m->format(), CheckpointFormat::Gguf);
        QCOMPARE(m->tensors().size(), std::size_t(48));
        std::uint64_t firstData = ~0ull;
        for (const auto &t : m->tensors()) {
            QCOMPARE(t.dtype, DType::F32);
            QCOMPARE(QString::fromStdString(t.storageType), QStringLiteral("F32"));
            QVERIFY(t.loadable);
            firstData = std::min(firstData, t.offset);
        }
        QCOMPARE(firstData, std::uint64_t(14176)); // infos end at 14,152, padded to 32
        const Architecture &a = m->architecture();
        QCOMPARE(a.family, std::string("llama"));
        QCOMPARE(a.context, 2048);
        QCOMPARE(a.hidden, 64);
        QCOMPARE(a.layers, 5);
        QCOMPARE(a.heads, 8);
        QCOMPARE(a.kvHeads, 4);
        QCOMPARE(a.vocab, 512);
        QCOMPARE(a.ropeLayout, RopeLayout::Interleaved);
        QVERIFY(m->tokenizer().has_value());
        QCOMPARE(m->tokenizer()->size, 512);
        QVERIFY(!a.tiedEmbeddings);
        const TensorInfo *out = m->find("lm_head.weight");
        QVERIFY(out);
        QCOMPARE(QString::fromStdString(out->sourceName), QStringLiteral("output.weight"));
        const TensorInfo *emb = m->find("model.embed_tokens.weight");
        QVERIFY(emb);
        QCOMPARE(emb->shape, (std::vector<std::int64_t>{512, 64})); // ne [64, 512] reversed
    }

    void tinyModelOpens()
    {
        const QString path = freshTempDir(QStringLiteral("gguf-tiny")) + QStringLiteral("/tiny.gguf");
        writeFile(path, tinyLlamaGguf().build());
        auto m = ModelHandle::open(path.toStdString());
        QCOMPARE(m->tensors().size(), std::size_t(12));
        QCOMPARE(m->architecture().headDim, 8);
        QCOMPARE(m->architecture().bosTokenIds, (std::vector<std::int64_t>{1}));
        QVERIFY(m->warnings().empty());
    }

    void storageTypes_data()
    {
        QTest::addColumn<int>("ggmlType");
        QTest::addColumn<QByteArray>("data");
        QTest::addColumn<QByteArray>("expected"); // float32 values

        // F16: 1, -2, the largest finite half, the smallest subnormal, a subnormal with more
        // bits, negative zero and 0.333 (rounded).
        const std::uint16_t f16[] = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x8000, 0x3555};
        const float f16v[]
            = {1.0f, -2.0f, 65504.0f, std::ldexp(1.0f, -24), 1023 * std::ldexp(1.0f, -24), -0.0f, 0.333251953125f};
        QByteArray d16, e16;
        for (std::uint64_t i = 0; i < upElements; ++i) {
            d16 += leU16(f16[i % 7]);
            e16 += leF32(f16v[i % 7]);
        }
        QTest::newRow("F16 incl. subnormals") << int(gguf::TF16) << d16 << e16;

        // BF16 is the top half of a float32: 1, -3, pi (truncated), the smallest subnormal.
        const std::uint16_t bf[] = {0x3F80, 0xC040, 0x4049, 0x0001};
        const float bfv[] = {1.0f, -3.0f, 3.140625f, std::ldexp(1.0f, -133)};
        QByteArray dbf, ebf;
        for (std::uint64_t i = 0; i < upElements; ++i) {
            dbf += leU16(bf[i % 4]);
            ebf += leF32(bfv[i % 4]);
        }
        QTest::newRow("BF16 incl. subnormal") << int(gguf::TBF16) << dbf << ebf;

        // Q8_0: per 32-element block a half scale, then 32 int8; value = d * q. The scale varies
        // per block and q covers -128..127.
        QByteArray dq, eq;
        for (std::uint64_t b = 0; b < upElements / 32; ++b) {
            const std::uint16_t scale = b % 2 ? 0x3800 /* 0.5 */ : 0x2C00 /* 1/16 */;
            const float s = b % 2 ? 0.5f : 0.0625f;
            dq += leU16(scale);
            for (int k = 0; k < 32; ++k) {
                const auto q = static_cast<std::int8_t>(static_cast<int>((b * 32 + k) * 37 % 256) - 128);
                dq += static_cast<char>(q);
                eq += leF32(s * q);
            }
        }
        QTest::newRow("Q8_0 dequantised") << int(gguf::TQ8_0) << dq << eq;
    }

    void storageTypes()
    {
        QFETCH(int, ggmlType);
        QFETCH(QByteArray, data);
        QFETCH(QByteArray, expected);
        GgufBuilder g = tinyLlamaGguf();
        g.tensor("blk.0.ffn_up.weight")->type = static_cast<std::uint32_t>(ggmlType);
        g.tensor("blk.0.ffn_up.weight")->data = data;
        const QString path = freshTempDir(QStringLiteral("gguf-types")) + QStringLiteral("/typed.gguf");
        writeFile(path, g.build());
        auto m = ModelHandle::open(path.toStdString());
        const TensorInfo *t = m->find("model.layers.0.mlp.up_proj.weight");
        QVERIFY(t);
        QCOMPARE(t->bytes, std::uint64_t(data.size()));
        QCOMPARE(t->shape, (std::vector<std::int64_t>{64, 32}));
        QVERIFY(t->loadable);

        const std::vector<float> got = readAllAsFloat32(t->dtype, m->data(*t), t->elementCount());
        QCOMPARE(got.size(), std::size_t(upElements));
        std::vector<float> want(upElements);
        std::memcpy(want.data(), expected.constData(), upElements * 4);
        double sum = 0, mn = INFINITY, mx = -INFINITY, zeros = 0;
        for (std::size_t i = 0; i < want.size(); ++i) {
            // Bit equality: every one of these conversions is exact.
            QVERIFY2(std::memcmp(&got[i], &want[i], 4) == 0,
                qPrintable(QStringLiteral("element %1: got %2, want %3").arg(i).arg(got[i]).arg(want[i])));
            sum += want[i];
            mn = std::min<double>(mn, want[i]);
            mx = std::max<double>(mx, want[i]);
            zeros += want[i] == 0;
        }
        const TensorStats s = computeTensorStats(*m, *t);
        QCOMPARE(s.count, upElements);
        QCOMPARE(s.min, mn);
        QCOMPARE(s.max, mx);
        QVERIFY(std::abs(s.mean - sum / upElements) <= 1e-9 * std::max(1.0, std::abs(mx)));
        QCOMPARE(s.zeroFraction, zeros / upElements);
        QCOMPARE(s.nanCount, std::uint64_t(0));
    }

    void unsupportedQuantisationIsListed()
    {
        GgufBuilder g = tinyLlamaGguf();
        // IQ2_XXS (ggml type 16): 256-element blocks of 66 bytes; 512 elements = 132 bytes.
        g.addTensor({"extra.iq2", {256, 2}, 16, QByteArray(132, '\x11'), std::nullopt});
        const QString path = freshTempDir(QStringLiteral("gguf-iq2")) + QStringLiteral("/iq2.gguf");
        writeFile(path, g.build());
        auto m = ModelHandle::open(path.toStdString());
        const TensorInfo *t = m->find("extra.iq2");
        QVERIFY(t);
        QCOMPARE(QString::fromStdString(t->storageType), QStringLiteral("IQ2_XXS"));
        QCOMPARE(t->bytes, std::uint64_t(132));
        QCOMPARE(t->dtype, DType::Unsupported);
        QVERIFY(!t->loadable);
        QCOMPARE(t->shape, (std::vector<std::int64_t>{2, 256}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, computeTensorStats(*m, *t));
    }

    // Every block format the engine computes with opens as loadable, with its byte size from the
    // block geometry, and its statistics read the dequantised values.
    void blockFormatsAreLoadable_data()
    {
        QTest::addColumn<std::uint32_t>("type");
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("block");
        QTest::addColumn<int>("bytes");
        QTest::newRow("Q4_0") << 2u << "Q4_0" << 32 << 18;
        QTest::newRow("Q4_1") << 3u << "Q4_1" << 32 << 20;
        QTest::newRow("Q5_0") << 6u << "Q5_0" << 32 << 22;
        QTest::newRow("Q5_1") << 7u << "Q5_1" << 32 << 24;
        QTest::newRow("Q8_0") << 8u << "Q8_0" << 32 << 34;
        QTest::newRow("Q2_K") << 10u << "Q2_K" << 256 << 84;
        QTest::newRow("Q3_K") << 11u << "Q3_K" << 256 << 110;
        QTest::newRow("Q4_K") << 12u << "Q4_K" << 256 << 144;
        QTest::newRow("Q5_K") << 13u << "Q5_K" << 256 << 176;
        QTest::newRow("Q6_K") << 14u << "Q6_K" << 256 << 210;
        QTest::newRow("IQ4_NL") << 20u << "IQ4_NL" << 32 << 18;
        QTest::newRow("IQ4_XS") << 23u << "IQ4_XS" << 256 << 136;
    }

    void blockFormatsAreLoadable()
    {
        QFETCH(std::uint32_t, type);
        QFETCH(QString, name);
        QFETCH(int, block);
        QFETCH(int, bytes);
        GgufBuilder g = tinyLlamaGguf();
        // Zero bytes: every scale is +0, so every value is 0 whatever the layout.
        g.addTensor({"extra.q", {256, 2}, type, QByteArray(512 / block * bytes, '\0'), std::nullopt});
        const QString path = freshTempDir(QStringLiteral("gguf-block")) + QStringLiteral("/q.gguf");
        writeFile(path, g.build());
        auto m = ModelHandle::open(path.toStdString());
        const TensorInfo *t = m->find("extra.q");
        QVERIFY(t);
        QCOMPARE(QString::fromStdString(t->storageType), name);
        QCOMPARE(QString::fromStdString(std::string(dtypeName(t->dtype))), name);
        QVERIFY(t->loadable);
        QCOMPARE(t->bytes, std::uint64_t(512 / block * bytes));
        const auto s = computeTensorStats(*m, *t);
        QCOMPARE(s.min, 0.0);
        QCOMPARE(s.max, 0.0);
        QCOMPARE(s.zeroFraction, 1.0);
    }

    // A ragged row (innermost dimension not a whole number of blocks) is refused, naming the tensor.
    void raggedBlockRowIsRefused()
    {
        GgufBuilder g = tinyLlamaGguf();
        g.addTensor({"extra.ragged", {200, 2}, 12u, QByteArray(288, '\0'), std::nullopt});
        const QString path = freshTempDir(QStringLiteral("gguf-ragged")) + QStringLiteral("/r.gguf");
        writeFile(path, g.build());
        try {
            ModelHandle::open(path.toStdString());
            QFAIL("a Q4_K row of 200 elements opened");
        } catch (const FormatError &e) {
            const QString what = QString::fromUtf8(e.what());
            QVERIFY2(what.contains(QStringLiteral("extra.ragged")) && what.contains(QStringLiteral("block size 256")),
                e.what());
        }
    }

    void hostile_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expect"); // text the error must contain besides the path

        auto with = [](const std::function<void(GgufBuilder &)> &change) {
            GgufBuilder g = tinyLlamaGguf();
            change(g);
            return g.build();
        };
        const QByteArray valid = tinyLlamaGguf().build();
        const QByteArray head = "GGUF" + leU32(3);

        QTest::newRow("empty file") << QByteArray() << "magic";
        QTest::newRow("shorter than magic") << QByteArray("GG") << "magic";
        QTest::newRow("bad magic") << with([](GgufBuilder &g) { g.magic = "GGUX"; }) << "magic: not a GGUF file";
        QTest::newRow("unknown version 4") << with([](GgufBuilder &g) { g.version = 4; }) << "version 4";
        QTest::newRow("version 1") << with([](GgufBuilder &g) { g.version = 1; }) << "version 1";
        QTest::newRow("big-endian version") << with([](GgufBuilder &g) { g.version = 0x03000000; }) << "big-endian";
        QTest::newRow("truncated counts") << head + leU64(1) << "metadata count";
        QTest::newRow("tensor count beyond the file")
            << with([](GgufBuilder &g) { g.tensorCountOverride = 1ull << 40; }) << "tensor count";
        QTest::newRow("tensor count 2^64-1")
            << with([](GgufBuilder &g) { g.tensorCountOverride = ~0ull; }) << "tensor count";
        QTest::newRow("metadata count beyond the file")
            << with([](GgufBuilder &g) { g.kvCountOverride = 1ull << 40; }) << "metadata count";
        QTest::newRow("metadata count one too many") << with([](GgufBuilder &g) { g.kvCountOverride = 16; }) << "";
        QTest::newRow("tensor count one too many") << with([](GgufBuilder &g) { g.tensorCountOverride = 13; }) << "";
        QTest::newRow("key length past EOF") << head + leU64(0) + leU64(1) + leU64(1000) + "abcdefghijk"
                                             << "metadata key: needs 1000 bytes";
        QTest::newRow("key length above 1 MiB cap")
            << head + leU64(0) + leU64(1) + leU64(2 << 20) + QByteArray(64, 'k') << "cap";
        QTest::newRow("string value past EOF")
            << with([](GgufBuilder &g) { g.addRaw("general.name", gguf::String, leU64(500000) + "abc"); })
            << "general.name";
        QTest::newRow("string value above cap")
            << with([](GgufBuilder &g) { g.addRaw("general.name", gguf::String, leU64(1ull << 40)); }) << "cap";
        QTest::newRow("array count x size overflows")
            << with([](GgufBuilder &g) { g.addRaw("x.arr", gguf::Array, leU32(gguf::U64) + leU64(1ull << 62)); })
            << "x.arr: array of";
        QTest::newRow("array count past EOF")
            << with([](GgufBuilder &g) { g.addRaw("x.arr", gguf::Array, leU32(gguf::U32) + leU64(1000000)); })
            << "cannot fit";
        QTest::newRow("array count above element cap") << with([](GgufBuilder &g) {
            g.addRaw("x.arr", gguf::Array, leU32(gguf::U8) + leU64(5000000) + QByteArray(5000000, '\0'));
        }) << "exceeds the cap";
        QTest::newRow("arrays nested three deep") << with([](GgufBuilder &g) {
            g.addRaw("x.arr", gguf::Array,
                leU32(gguf::Array) + leU64(1) + leU32(gguf::Array) + leU64(1) + leU32(gguf::Array) + leU64(1)
                    + leU32(gguf::U8) + leU64(1) + "x");
        }) << "nested deeper than 2";
        QTest::newRow("arrays nested two deep are fine") << with([](GgufBuilder &g) {
            g.addRaw("x.arr", gguf::Array, leU32(gguf::Array) + leU64(1) + leU32(gguf::U8) + leU64(2) + "xy");
        }) << "OPENS";
        QTest::newRow("unknown value type")
            << with([](GgufBuilder &g) { g.addRaw("x.val", 13, leU32(0)); }) << "unknown metadata value type 13";
        QTest::newRow("unknown array element type")
            << with([](GgufBuilder &g) { g.addRaw("x.arr", gguf::Array, leU32(99) + leU64(1) + leU32(0)); })
            << "unknown array element type 99";
        QTest::newRow("bool neither 0 nor 1")
            << with([](GgufBuilder &g) { g.addRaw("x.b", gguf::Bool, "\x02"); }) << "x.b: bool value 2";
        QTest::newRow("duplicate key") << with([](GgufBuilder &g) { g.addU32("llama.block_count", 1); })
                                       << "llama.block_count: metadata key appears twice";
        QTest::newRow("duplicate tensor name") << with([](GgufBuilder &g) { g.addTensor(*g.tensor("output.weight")); })
                                               << "output.weight: tensor name appears twice";
        QTest::newRow("non-UTF-8 key") << with([](GgufBuilder &g) { g.addU32("bad.\xff\xfe", 1); })
                                       << "metadata key: is not valid UTF-8";
        QTest::newRow("overlong UTF-8 key")
            << with([](GgufBuilder &g) { g.addU32("bad.\xc0\xaf", 1); }) << "metadata key: is not valid UTF-8";
        QTest::newRow("non-UTF-8 tensor name") << with([](GgufBuilder &g) {
            g.addTensor({"x\xed\xa0\x80", {4}, gguf::TF32, f32Ramp(4), {}});
        }) << "tensor name: is not valid UTF-8";
        QTest::newRow("n_dims 0") << with([](GgufBuilder &g) {
            g.addTensor({"extra.t", {}, gguf::TF32, {}, {}});
        }) << "extra.t: has 0 dimensions";
        QTest::newRow("n_dims 5") << with([](GgufBuilder &g) {
            g.addTensor({"extra.t", {1, 1, 1, 1, 1}, gguf::TF32, f32Ramp(1), {}});
        }) << "extra.t: has 5 dimensions";
        QTest::newRow("ne zero") << with([](GgufBuilder &g) {
            g.tensor("output.weight")->ne = {32, 0};
        }) << "output.weight: dimension 0";
        QTest::newRow("element count overflows") << with([](GgufBuilder &g) {
            g.addTensor({"extra.t", {1ull << 31, 1ull << 31, 1ull << 31}, gguf::TF32, {}, {}});
        }) << "extra.t: element count overflows";
        QTest::newRow("byte size overflows") << with([](GgufBuilder &g) {
            g.addTensor({"extra.t", {1ull << 31, 1ull << 31}, gguf::TF32, {}, {}});
        }) << "extra.t: byte size";
        QTest::newRow("unknown ggml type") << with([](GgufBuilder &g) { g.tensor("output.weight")->type = 99; })
                                           << "output.weight: unsupported ggml type 99";
        QTest::newRow("offset not aligned")
            << with([](GgufBuilder &g) { g.tensor("output.weight")->offset = 4; }) << "output.weight: data offset 4";
        QTest::newRow("offset far past EOF")
            << with([](GgufBuilder &g) { g.tensor("output.weight")->offset = 1ull << 60; })
            << "output.weight: data range";
        QTest::newRow("offset + size wraps around")
            << with([](GgufBuilder &g) { g.tensor("output.weight")->offset = ~0ull - 31; })
            << "output.weight: data range";
        QTest::newRow("tensor data cut short") << valid.left(valid.size() - 4) << "output.weight: data range";
        QTest::newRow("overlapping tensors") << with([](GgufBuilder &g) {
            g.tensor("output.weight")->offset = 0; // where token_embd.weight lies
        }) << "overlaps the data of tensor";
        QTest::newRow("Q4_K data shorter than its type needs") << with([](GgufBuilder &g) {
            // 512 Q4_K elements need 288 bytes; the next tensor starts 256 bytes in.
            g.addTensor({"extra.q4k", {256, 2}, gguf::TQ4_K, QByteArray(288, 0), std::uint64_t(1) << 20});
            g.addTensor({"extra.after", {64}, gguf::TF32, QByteArray(256, 0), (std::uint64_t(1) << 20) + 256});
        }) << "extra.after: overlaps the data of tensor extra.q4k";
        QTest::newRow("unknown ggml type id") << with([](GgufBuilder &g) {
            g.addTensor({"extra.t", {32}, 77u, QByteArray(32, 0), {}});
        }) << "extra.t: unsupported ggml type 77";
        QTest::newRow("Q8_0 ne[0] not a multiple of 32") << with([](GgufBuilder &g) {
            g.addTensor({"extra.q8", {16, 2}, gguf::TQ8_0, QByteArray(34, 0), {}});
        }) << "extra.q8: Q8_0 needs the innermost dimension (16) to be a multiple of its block size 32";
        QTest::newRow("alignment 0") << with([](GgufBuilder &g) { g.addU32("general.alignment", 0); })
                                     << "general.alignment: 0 is not a power of two";
        QTest::newRow("alignment 48") << with([](GgufBuilder &g) { g.addU32("general.alignment", 48); })
                                      << "general.alignment: 48 is not a power of two";
        QTest::newRow("alignment of the wrong type")
            << with([](GgufBuilder &g) { g.addString("general.alignment", "32"); }) << "general.alignment: must be";
        QTest::newRow("architecture missing") << with([](GgufBuilder &g) { g.removeKey("general.architecture"); })
                                              << "general.architecture: required key is missing";
        QTest::newRow("architecture of the wrong type") << with([](GgufBuilder &g) {
            g.removeKey("general.architecture");
            g.addU32("general.architecture", 1);
        }) << "general.architecture: must be a string";
        QTest::newRow("architecture unknown") << with([](GgufBuilder &g) {
            g.removeKey("general.architecture");
            g.addString("general.architecture", "gpt2");
        }) << "unknown architecture \"gpt2\"";
        QTest::newRow("required key missing") << with([](GgufBuilder &g) { g.removeKey("llama.embedding_length"); })
                                              << "llama.embedding_length: required key is missing";
        QTest::newRow("required key of the wrong type") << with([](GgufBuilder &g) {
            g.removeKey("llama.block_count");
            g.addString("llama.block_count", "1");
        }) << "llama.block_count: must be an integer";
        QTest::newRow("block count beyond cap") << with([](GgufBuilder &g) {
            g.removeKey("llama.block_count");
            g.addU32("llama.block_count", 5000);
        }) << "llama.block_count: value 5000";
        QTest::newRow("head count zero") << with([](GgufBuilder &g) {
            g.removeKey("llama.attention.head_count");
            g.addU32("llama.attention.head_count", 0);
        }) << "llama.attention.head_count: value 0";
        QTest::newRow("kv heads do not divide heads") << with([](GgufBuilder &g) {
            g.removeKey("llama.attention.head_count_kv");
            g.addU32("llama.attention.head_count_kv", 3);
        }) << "llama.attention.head_count_kv: 3 does not divide";
        QTest::newRow("negative context length") << with([](GgufBuilder &g) {
            g.removeKey("llama.context_length");
            g.addI32("llama.context_length", -1);
        }) << "llama.context_length: value -1";
        QTest::newRow("rms epsilon of the wrong type") << with([](GgufBuilder &g) {
            g.removeKey("llama.attention.layer_norm_rms_epsilon");
            g.addString("llama.attention.layer_norm_rms_epsilon", "1e-5");
        }) << "llama.attention.layer_norm_rms_epsilon";
        QTest::newRow("scores shorter than tokens") << with([](GgufBuilder &g) {
            g.removeKey("tokenizer.ggml.scores");
            g.addF32Array("tokenizer.ggml.scores", std::vector<float>(15, 0.0f));
        }) << "tokenizer.ggml.scores: has 15 entries but there are 16 tokens";
        QTest::newRow("token types longer than tokens") << with([](GgufBuilder &g) {
            g.removeKey("tokenizer.ggml.token_type");
            g.addI32Array("tokenizer.ggml.token_type", std::vector<std::int32_t>(17, 1));
        }) << "tokenizer.ggml.token_type: has 17 entries";
        QTest::newRow("scores of the wrong element type") << with([](GgufBuilder &g) {
            g.removeKey("tokenizer.ggml.scores");
            g.addI32Array("tokenizer.ggml.scores", std::vector<std::int32_t>(16, 0));
        }) << "tokenizer.ggml.scores: must be an array of float32";
        QTest::newRow("tokens not strings") << with([](GgufBuilder &g) {
            g.removeKey("tokenizer.ggml.tokens");
            g.addI32Array("tokenizer.ggml.tokens", std::vector<std::int32_t>(16, 0));
        }) << "tokenizer.ggml.tokens: must be an array of strings";
        QTest::newRow("tokenizer model not a string") << with([](GgufBuilder &g) {
            g.removeKey("tokenizer.ggml.model");
            g.addU32("tokenizer.ggml.model", 1);
        }) << "tokenizer.ggml.model: must be a string";
        QTest::newRow("bos id out of range") << with([](GgufBuilder &g) {
            g.removeKey("tokenizer.ggml.bos_token_id");
            g.addU32("tokenizer.ggml.bos_token_id", 16);
        }) << "tokenizer.ggml.bos_token_id: token id 16 is outside the vocabulary of 16";
        QTest::newRow("eos id negative") << with([](GgufBuilder &g) {
            g.removeKey("tokenizer.ggml.eos_token_id");
            g.addI32("tokenizer.ggml.eos_token_id", -5);
        }) << "tokenizer.ggml.eos_token_id: token id -5";
        QTest::newRow("shape disagrees with the metadata") << with([](GgufBuilder &g) {
            g.tensor("blk.0.attn_q.weight")->ne = {32, 16};
            g.tensor("blk.0.attn_q.weight")->data = f32Ramp(512);
        }) << "blk.0.attn_q.weight: shape [16, 32] does not match the configuration, which needs [32, 32]";
        QTest::newRow("vocab_size disagrees with the embedding")
            << with([](GgufBuilder &g) { g.addU32("llama.vocab_size", 17); }) << "token_embd.weight: shape [16, 32]";
        QTest::newRow("block beyond block count") << with([](GgufBuilder &g) {
            g.addTensor({"blk.7.attn_norm.weight", {32}, gguf::TF32, f32Ramp(32), {}});
        }) << "blk.7.attn_norm.weight: belongs to block 7";
        QTest::newRow("required tensor missing")
            << with([](GgufBuilder &g) { g.tensor("output_norm.weight")->name = "renamed.weight"; })
            << "model.norm.weight: required tensor is missing";
        QTest::newRow("two names for one canonical tensor") << with([](GgufBuilder &g) {
            auto t = *g.tensor("blk.0.attn_norm.weight");
            t.name = "blk.00.attn_norm.weight";
            g.addTensor(t);
        }) << "tensor appears twice";
    }

    void hostile()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expect);
        const QString path = freshTempDir(QStringLiteral("gguf-hostile")) + QStringLiteral("/model.gguf");
        writeFile(path, bytes);
        std::string message;
        const OpenOutcome outcome = tryOpen(path.toStdString(), &message);
        if (expect == QLatin1String("OPENS")) {
            QCOMPARE(outcome, OpenOutcome::Opened);
            return;
        }
        QCOMPARE(outcome, OpenOutcome::FormatError);
        QVERIFY2(QString::fromStdString(message).contains(path), message.c_str());
        QVERIFY2(QString::fromStdString(message).contains(expect), message.c_str());
    }

    void fifoIsRefusedWithoutBlocking()
    {
        const QString path = freshTempDir(QStringLiteral("gguf-fifo")) + QStringLiteral("/pipe.gguf");
        QCOMPARE(::mkfifo(path.toLocal8Bit().constData(), 0600), 0);
        std::string message;
        QCOMPARE(tryOpen(path.toStdString(), &message), OpenOutcome::UsageError);
        QVERIFY2(QString::fromStdString(message).contains(QStringLiteral("regular file")), message.c_str());
        // The reader itself, called directly, must not block on the FIFO either.
        QVERIFY_THROWS_EXCEPTION(FormatError, readGguf(path.toStdString()));
    }

    void mutationsOfRealAsset()
    {
        BLOCKSCOPE_REQUIRE_DATA(src, "models/stories260K/stories260K.gguf");
        mutate(readFile(src), 256, 256, 20240601u);
    }

    void mutationsOfQuantisedFile()
    {
        GgufBuilder g = tinyLlamaGguf();
        g.tensor("blk.0.ffn_up.weight")->type = gguf::TQ8_0;
        g.tensor("blk.0.ffn_up.weight")->data = QByteArray(64 * 34, '\x05');
        g.tensor("blk.0.ffn_gate.weight")->type = gguf::TF16;
        g.tensor("blk.0.ffn_gate.weight")->data = QByteArray(64 * 32 * 2, '\x3c');
        g.addTensor({"extra.q4k", {256, 2}, gguf::TQ4_K, QByteArray(288, '\x11'), std::nullopt});
        g.addTensor({"extra.q6k", {256, 1}, 14u, QByteArray(210, '\x21'), std::nullopt});
        g.addTensor({"extra.q41", {64, 2}, 3u, QByteArray(4 * 20, '\x31'), std::nullopt});
        mutate(g.build(), 256, 512, 77u);
    }

private:
    // Every variant must open or fail with a typed error; those that open must also survive
    // reading every value, which is where a wrong byte size would read out of bounds.
    void mutate(const QByteArray &bytes, int cuts, int flips, unsigned seed)
    {
        const QString path = freshTempDir(QStringLiteral("gguf-mutate")) + QStringLiteral("/m.gguf");
        int opened = 0, refused = 0;
        const int n = mutateAndCheck(bytes, path, cuts, flips, seed, [&] {
            try {
                auto m = ModelHandle::open(path.toStdString());
                for (const auto &t : m->tensors())
                    if (t.loadable && dtypeIsFloatReadable(t.dtype))
                        computeTensorStats(*m, t);
                ++opened;
            } catch (const FormatError &e) {
                QVERIFY2(QString::fromUtf8(e.what()).contains(path), e.what());
                ++refused;
            } catch (const UsageError &) {
                ++refused;
            }
        });
        Q_UNUSED(n);
        QVERIFY(refused > 0);
        QVERIFY(opened > 0);
        QVERIFY(refused > 0);
    }
};

QTEST_GUILESS_MAIN(TestGgufReader)
#include "tst_ggufreader.moc"
