// safetensors reader (formats.md §5): single files with and without config.json, Hugging Face
// folders, sharded folders with an index, the writer and exporter round trips, and every
// hostile-input item of §5 as a hand-made file or folder.
#include "common/formaterror.h"
#include "ggufbuilder.h"
#include "hostile.h"
#include "model/checkpointexport.h"
#include "model/checkpointreaders.h"
#include "model/modelhandle.h"
#include "model/safetensorswriter.h"
#include "model/tensorstats.h"
#include "model/tensorvalues.h"
#include "safetensorsbuilder.h"
#include "testdata.h"

#include <QDir>
#include <QFile>
#include <QTest>

#include <cstring>
#include <nlohmann/json.hpp>

using namespace blockscope;
using namespace blockscope::test;

namespace {

QString writeTinyFolder(const QString &name, bool withConfig)
{
    const QString dir = freshTempDir(name);
    writeFile(dir + QStringLiteral("/model.safetensors"), tinyLlamaSafetensors().build());
    if (withConfig)
        writeFile(dir + QStringLiteral("/config.json"), configJson(tinyLlamaConfigFields()));
    return dir;
}

// The smallest file a bare .safetensors opens as: an embedding and one block's gate projection
// (the reader infers vocab, hidden size, layers and FFN width from them).
const QByteArray embedEntry = R"("model.embed_tokens.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]})";
const QByteArray gateEntry
    = R"("model.layers.0.mlp.gate_proj.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]})";

QByteArray minimalWith(const QByteArray &tensorEntry)
{
    return "{" + embedEntry + "," + gateEntry + "," + tensorEntry + "}";
}

QByteArray bufferOf(int floats)
{
    return f32Ramp(static_cast<std::uint64_t>(floats));
}

struct Shards
{
    SafetensorsBuilder a, b;
};

// The tiny model split over two shards: the first block in one, the rest in the other.
Shards tinyShards()
{
    Shards s;
    for (const auto &e : tinyLlamaSafetensors().entries)
        (e.name.startsWith("model.layers.") ? s.a : s.b).entries.push_back(e);
    return s;
}

QByteArray indexJson(const SafetensorsBuilder &a, const SafetensorsBuilder &b, std::uint64_t totalSize,
    const QByteArray &extraMapEntries = {})
{
    QByteArray map;
    for (const auto *sb : {&a, &b})
        for (const auto &e : sb->entries)
            map += (map.isEmpty() ? "\"" : ",\"") + e.name + "\":\""
                + (sb == &a ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors") + "\"";
    return R"({"metadata":{"total_size":)" + QByteArray::number(static_cast<qulonglong>(totalSize))
        + R"(},"weight_map":{)" + map + extraMapEntries + "}}";
}

std::uint64_t dataBytes(const SafetensorsBuilder &b)
{
    std::uint64_t n = 0;
    for (const auto &e : b.entries)
        n += static_cast<std::uint64_t>(e.data.size());
    return n;
}

// Writes the sharded tiny model; `index` replaces the generated index when non-null.
QString writeShardedFolder(const QString &name, const Shards &s, const QByteArray &index = {})
{
    const QString dir = freshTempDir(name);
    writeFile(dir + QStringLiteral("/config.json"), configJson(tinyLlamaConfigFields()));
    writeFile(dir + QStringLiteral("/model-00001-of-00002.safetensors"), s.a.build());
    writeFile(dir + QStringLiteral("/model-00002-of-00002.safetensors"), s.b.build());
    writeFile(dir + QStringLiteral("/model.safetensors.index.json"),
        index.isNull() ? indexJson(s.a, s.b, dataBytes(s.a) + dataBytes(s.b)) : index);
    return dir;
}

bool anyWarningContains(const ModelHandle &m, const char *text)
{
    for (const auto &w : m.warnings())
        if (w.find(text) != std::string::npos)
            return true;
    return false;
}

} // namespace

class TestSafetensorsReader : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void singleFileWithoutConfig()
    {
        const QString dir = writeTinyFolder(QStringLiteral("st-bare"), false);
        auto m = ModelHandle::open((dir + QStringLiteral("/model.safetensors")).toStdString());
        QCOMPARE(m->format(), CheckpointFormat::Safetensors);
        QVERIFY(!m->architectureComplete());
        const Architecture &a = m->architecture();
        QCOMPARE(a.vocab, 16);
        QCOMPARE(a.hidden, 32);
        QCOMPARE(a.layers, 1);
        QCOMPARE(a.intermediate, 64);
        QCOMPARE(a.heads, 0); // unknown without config.json
        QVERIFY(!a.tiedEmbeddings);
        QCOMPARE(m->tensors().size(), std::size_t(12));
        QVERIFY(anyWarningContains(*m, "no config.json"));
    }

    void singleFileWithConfig()
    {
        const QString dir = writeTinyFolder(QStringLiteral("st-config"), true);
        auto m = ModelHandle::open((dir + QStringLiteral("/model.safetensors")).toStdString());
        QCOMPARE(m->format(), CheckpointFormat::Safetensors);
        QVERIFY(m->architectureComplete());
        QCOMPARE(m->architecture().heads, 4);
        QCOMPARE(m->architecture().kvHeads, 2);
        QCOMPARE(m->architecture().headDim, 8);
        QVERIFY(m->warnings().empty());
    }

    void huggingFaceFolder()
    {
        const QString dir = writeTinyFolder(QStringLiteral("st-folder"), true);
        auto m = ModelHandle::open(dir.toStdString());
        QCOMPARE(m->format(), CheckpointFormat::HuggingFace);
        QCOMPARE(m->tensors().size(), std::size_t(12));
        QCOMPARE(m->files().size(), std::size_t(1));
        // Opening config.json itself opens its folder.
        auto viaConfig = ModelHandle::open((dir + QStringLiteral("/config.json")).toStdString());
        QCOMPARE(viaConfig->tensors().size(), std::size_t(12));
    }

    void folderWithoutWeights()
    {
        const QString dir = freshTempDir(QStringLiteral("st-noweights"));
        writeFile(dir + QStringLiteral("/config.json"), configJson(tinyLlamaConfigFields()));
        std::string message;
        QCOMPARE(tryOpen(dir.toStdString(), &message), OpenOutcome::FormatError);
        QVERIFY2(
            QString::fromStdString(message).contains(QStringLiteral("neither model.safetensors")), message.c_str());
    }

    void shardedFolder()
    {
        const Shards s = tinyShards();
        const QString dir = writeShardedFolder(QStringLiteral("st-sharded"), s);
        auto m = ModelHandle::open(dir.toStdString());
        QCOMPARE(m->tensors().size(), std::size_t(12));
        QCOMPARE(m->files().size(), std::size_t(2));
        QVERIFY2(m->warnings().empty(), m->warnings().empty() ? "" : m->warnings().front().c_str());
        const TensorInfo *norm = m->find("model.norm.weight");
        QVERIFY(norm);
        QCOMPARE(
            QString::fromStdString(m->fileName(norm->fileIndex)), QStringLiteral("model-00002-of-00002.safetensors"));
        // Values come from the right shard.
        const auto v = readAllAsFloat32(norm->dtype, m->data(*norm), norm->elementCount());
        const auto want = f32Ramp(32, -0.5f);
        QCOMPARE(std::memcmp(v.data(), want.constData(), 128), 0);
    }

    void shardedWarnings()
    {
        Shards s = tinyShards();
        s.b.add("model.unindexed", "F32", {2}, f32Ramp(2));
        // total_size off by one, and a tensor in a shard that the map does not list.
        const QString dir
            = writeShardedFolder(QStringLiteral("st-sharded-warn"), s, indexJson(tinyShards().a, tinyShards().b, 1));
        auto m = ModelHandle::open(dir.toStdString());
        QVERIFY(anyWarningContains(*m, "total_size"));
        QVERIFY(anyWarningContains(*m, "model.unindexed"));
        QVERIFY(!m->find("model.unindexed"));
    }

    void onlyIndexedShardsAreOpened()
    {
        const QString dir = writeShardedFolder(QStringLiteral("st-sharded-glob"), tinyShards());
        // A stray, broken .safetensors beside the shards must be ignored, not globbed.
        writeFile(dir + QStringLiteral("/model-00003-of-00002.safetensors"), QByteArray("garbage"));
        auto m = ModelHandle::open(dir.toStdString());
        QCOMPARE(m->files().size(), std::size_t(2));
    }

    void hostileFile_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expect");
        const QByteArray buf = bufferOf(16);
        auto st = [&](const QByteArray &header) { return safetensorsFile(header, buf); };
        auto entry = [](const QByteArray &fields) { return minimalWith(R"("model.norm.weight":{)" + fields + "}"); };

        QTest::newRow("valid minimal file")
            << st(minimalWith(R"("x":{"dtype":"F32","shape":[],"data_offsets":[32,36]})")) << "OPENS";
        QTest::newRow("header padded with spaces") << st("{" + embedEntry + "," + gateEntry + "}    ") << "OPENS";
        QTest::newRow("empty file") << QByteArray() << "header length: file is 0 bytes";
        QTest::newRow("shorter than 8 bytes") << QByteArray(7, '\0') << "header length: file is 7 bytes";
        QTest::newRow("header length 0") << leU64(0) + buf << "header length: is 0";
        QTest::newRow("header length above 100 MB") << leU64(100 * 1024 * 1024 + 1) + buf << "exceeds the 100 MB cap";
        QTest::newRow("header length 2^64-1") << leU64(~0ull) + buf << "header length";
        QTest::newRow("header past EOF") << leU64(1000) + "{}"
                                         << "runs past the end";
        QTest::newRow("header with a BOM") << st("\xEF\xBB\xBF{" + embedEntry + "}") << "byte-order mark";
        QTest::newRow("header not starting with {") << st("[1,2]") << "does not start with '{'";
        QTest::newRow("header starting with a space") << st(" {}") << "does not start with '{'";
        QTest::newRow("header not UTF-8") << st("{\"\xff\":1}") << "header: is not valid UTF-8";
        QTest::newRow("header not JSON") << st("{\"a\":") << "header: is not valid JSON";
        QTest::newRow("header with trailing garbage") << st("{} x") << "header: is not valid JSON";
        QTest::newRow("nesting 65 deep") << st("{\"x\":" + QByteArray(64, '[') + QByteArray(64, ']') + "}")
                                         << "nests deeper than 64";
        QTest::newRow("duplicate tensor key")
            << st("{" + embedEntry + "," + embedEntry + "}") << "key \"model.embed_tokens.weight\" twice";
        QTest::newRow("duplicate field key")
            << st(R"({"t":{"dtype":"F32","dtype":"F16","shape":[],"data_offsets":[0,4]}})") << "key \"dtype\" twice";
        QTest::newRow("NaN literal") << st(entry(R"("dtype":"F32","shape":[NaN],"data_offsets":[32,36])"))
                                     << "not valid JSON";
        QTest::newRow("Infinity literal")
            << st(entry(R"("dtype":"F32","shape":[Infinity],"data_offsets":[32,36])")) << "not valid JSON";
        QTest::newRow("number overflowing to infinity")
            << st(entry(R"("dtype":"F32","shape":[1e999],"data_offsets":[32,36])")) << "number overflow";
        QTest::newRow("key above 1 MiB") << st("{\"" + QByteArray(1024 * 1024 + 1, 'k') + "\":1}") << "cap";
        QTest::newRow("metadata value not a string") << st(R"({"__metadata__":{"format":1},)" + embedEntry + "}")
                                                     << "__metadata__.format: value must be a string";
        QTest::newRow("metadata not an object") << st(R"({"__metadata__":"pt"})") << "__metadata__: must be an object";
        QTest::newRow("entry not an object")
            << st(minimalWith(R"("model.norm.weight":[1])")) << "model.norm.weight: entry must be an object";
        QTest::newRow("dtype missing") << st(entry(R"("shape":[2],"data_offsets":[32,40])"))
                                       << "model.norm.weight: missing or non-string \"dtype\"";
        QTest::newRow("dtype not a string")
            << st(entry(R"("dtype":4,"shape":[2],"data_offsets":[32,40])")) << "non-string \"dtype\"";
        QTest::newRow("shape missing") << st(entry(R"("dtype":"F32","data_offsets":[32,40])"))
                                       << "missing or non-array \"shape\"";
        QTest::newRow("shape not an array")
            << st(entry(R"("dtype":"F32","shape":2,"data_offsets":[32,40])")) << "non-array \"shape\"";
        QTest::newRow("offsets missing") << st(entry(R"("dtype":"F32","shape":[2])"))
                                         << "missing or non-array \"data_offsets\"";
        QTest::newRow("extra field") << st(entry(R"("dtype":"F32","shape":[2],"data_offsets":[32,40],"x":1)"))
                                     << "unexpected field \"x\"";
        QTest::newRow("unknown dtype") << st(entry(R"("dtype":"F12","shape":[2],"data_offsets":[32,40])"))
                                       << "model.norm.weight: unsupported dtype F12";
        QTest::newRow("negative shape entry")
            << st(entry(R"("dtype":"F32","shape":[-2],"data_offsets":[32,40])")) << "non-negative integers, got -2";
        QTest::newRow("fractional shape entry")
            << st(entry(R"("dtype":"F32","shape":[2.5],"data_offsets":[32,40])")) << "non-negative integers, got 2.5";
        QTest::newRow("string shape entry")
            << st(entry(R"("dtype":"F32","shape":["2"],"data_offsets":[32,40])")) << "non-negative integers";
        QTest::newRow("shape entry 2^63")
            << st(entry(R"("dtype":"F32","shape":[9223372036854775808],"data_offsets":[32,40])")) << "too large";
        QTest::newRow("shape entry above 2^64")
            << st(entry(R"("dtype":"F32","shape":[18446744073709551616],"data_offsets":[32,40])"))
            << "non-negative integers";
        QTest::newRow("shape product overflows")
            << st(entry(R"("dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[32,40])"))
            << "element count of the shape overflows";
        QTest::newRow("byte size overflows")
            << st(entry(R"("dtype":"F64","shape":[2147483648,4294967296],"data_offsets":[32,40])"))
            << "byte size of the shape overflows";
        QTest::newRow("rank above 8") << st(
            entry(R"("dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[32,36])"))
                                      << "rank 9";
        QTest::newRow("one offset") << st(entry(R"("dtype":"F32","shape":[2],"data_offsets":[32])"))
                                    << "data_offsets must be two non-negative integers";
        QTest::newRow("three offsets") << st(entry(R"("dtype":"F32","shape":[2],"data_offsets":[32,40,48])"))
                                       << "data_offsets must be two";
        QTest::newRow("negative offset") << st(entry(R"("dtype":"F32","shape":[2],"data_offsets":[-8,0])"))
                                         << "data_offsets must be two";
        QTest::newRow("fractional offset")
            << st(entry(R"("dtype":"F32","shape":[2],"data_offsets":[32.0,40])")) << "data_offsets must be two";
        QTest::newRow("string offsets") << st(entry(R"("dtype":"F32","shape":[2],"data_offsets":["32","40"])"))
                                        << "data_offsets must be two";
        QTest::newRow("reversed offsets")
            << st(entry(R"("dtype":"F32","shape":[2],"data_offsets":[40,32])")) << "are reversed";
        QTest::newRow("offsets past the buffer")
            << st(entry(R"("dtype":"F32","shape":[2],"data_offsets":[64,72])")) << "past the data buffer (64 bytes)";
        QTest::newRow("offsets at 2^64-1")
            << st(entry(R"("dtype":"U8","shape":[0],"data_offsets":[18446744073709551615,18446744073709551615])"))
            << "past the data buffer";
        QTest::newRow("size mismatch") << st(entry(R"("dtype":"F32","shape":[3],"data_offsets":[32,40])"))
                                       << "holds 8 bytes but its dtype and shape need 12";
        QTest::newRow("overlapping tensors")
            << st(entry(R"("dtype":"F32","shape":[2],"data_offsets":[8,16])")) << "overlaps the data of tensor";
        QTest::newRow("no embedding and no config")
            << st(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})") << "model.embed_tokens.weight: missing";
    }

    void hostileFile()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expect);
        const QString path = freshTempDir(QStringLiteral("st-hostile")) + QStringLiteral("/model.safetensors");
        writeFile(path, bytes);
        std::string message;
        const OpenOutcome outcome = tryOpen(path.toStdString(), &message);
        if (expect == QLatin1String("OPENS")) {
            QVERIFY2(outcome == OpenOutcome::Opened, message.c_str());
            return;
        }
        QCOMPARE(outcome, OpenOutcome::FormatError);
        QVERIFY2(QString::fromStdString(message).contains(path), message.c_str());
        QVERIFY2(QString::fromStdString(message).contains(expect), message.c_str());
    }

    void holesAreWarnedAbout()
    {
        const QString path = freshTempDir(QStringLiteral("st-hole")) + QStringLiteral("/model.safetensors");
        writeFile(path,
            safetensorsFile(minimalWith(R"("x":{"dtype":"F32","shape":[2],"data_offsets":[40,48]})"), bufferOf(16)));
        auto m = ModelHandle::open(path.toStdString());
        QVERIFY(anyWarningContains(*m, "8 unused bytes"));
    }

    void hostileIndex_data()
    {
        QTest::addColumn<QByteArray>("normShard"); // raw JSON value for model.norm.weight in weight_map
        QTest::addColumn<QString>("expect");
        QTest::newRow("slash") << QByteArray(R"("sub/model-00002-of-00002.safetensors")") << "not a plain file name";
        QTest::newRow("backslash") << QByteArray(R"("sub\\model-00002-of-00002.safetensors")")
                                   << "not a plain file name";
        QTest::newRow("dot dot") << QByteArray(R"("..")") << "not a plain file name";
        QTest::newRow("dot dot prefix") << QByteArray(R"("..model-00002-of-00002.safetensors")")
                                        << "not a plain file name";
        QTest::newRow("dot") << QByteArray(R"(".")") << "not a plain file name";
        QTest::newRow("absolute path") << QByteArray(R"("/etc/passwd")") << "not a plain file name";
        QTest::newRow("empty name") << QByteArray(R"("")") << "not a plain file name";
        QTest::newRow("NUL in name") << QByteArray(R"("model-00002-of-00002.safetensors\u0000.txt")")
                                     << "safetensors\\x00.txt\" is not a plain file name";
        QTest::newRow("drive letter") << QByteArray(R"("C:model-00002-of-00002.safetensors")")
                                      << "not a plain file name";
        QTest::newRow("not a string") << QByteArray("2") << "shard name must be a string";
        QTest::newRow("shard missing") << QByteArray(R"("model-00003-of-00003.safetensors")") << "is missing";
        QTest::newRow("symlink leaving the folder")
            << QByteArray(R"("escape.safetensors")") << "outside the model folder";
        QTest::newRow("shard is a folder") << QByteArray(R"("dir.safetensors")") << "not a regular file";
        QTest::newRow("placed in the wrong shard")
            << QByteArray(R"("model-00001-of-00002.safetensors")") << "the index places it in model-00001-of-00002";
    }

    void hostileIndex()
    {
        QFETCH(QByteArray, normShard);
        QFETCH(QString, expect);
        const Shards s = tinyShards();
        QByteArray index = indexJson(s.a, s.b, 0);
        const QByteArray normEntry = R"("model.norm.weight":"model-00002-of-00002.safetensors")";
        QVERIFY(index.contains(normEntry));
        index.replace(normEntry, R"("model.norm.weight":)" + normShard);
        const QString dir = writeShardedFolder(QStringLiteral("st-index"), s, index);
        // Outside the model folder: a valid shard that a symlink inside points to.
        const QString outside = freshTempDir(QStringLiteral("st-index-outside"));
        writeFile(outside + QStringLiteral("/model.safetensors"), s.b.build());
        QVERIFY(
            QFile::link(outside + QStringLiteral("/model.safetensors"), dir + QStringLiteral("/escape.safetensors")));
        QVERIFY(QDir(dir).mkdir(QStringLiteral("dir.safetensors")));

        std::string message;
        QCOMPARE(tryOpen(dir.toStdString(), &message), OpenOutcome::FormatError);
        QVERIFY2(QString::fromStdString(message).contains(dir), message.c_str());
        QVERIFY2(QString::fromStdString(message).contains(expect), message.c_str());
        // The error names the tensor whose entry is at fault (a folder posing as a shard is
        // reported by path instead: it fails when opened, not when the entry is checked).
        if (expect != QLatin1String("not a regular file"))
            QVERIFY2(QString::fromStdString(message).contains(QStringLiteral("model.norm.weight")), message.c_str());
    }

    void symlinkInsideFolderIsAccepted()
    {
        const Shards s = tinyShards();
        QByteArray index = indexJson(s.a, s.b, dataBytes(s.a) + dataBytes(s.b));
        index.replace("model-00002-of-00002.safetensors", "alias.safetensors");
        const QString dir = writeShardedFolder(QStringLiteral("st-index-alias"), s, index);
        QVERIFY(QFile::link(
            dir + QStringLiteral("/model-00002-of-00002.safetensors"), dir + QStringLiteral("/alias.safetensors")));
        auto m = ModelHandle::open(dir.toStdString());
        QCOMPARE(m->tensors().size(), std::size_t(12));
    }

    void hostileIndexDocument_data()
    {
        QTest::addColumn<QByteArray>("index");
        QTest::addColumn<QString>("expect");
        QTest::newRow("not JSON") << QByteArray("{\"weight_map\":") << "index: is not valid JSON";
        QTest::newRow("not an object") << QByteArray("[]") << "weight_map: missing or not an object";
        QTest::newRow("weight_map missing") << QByteArray(R"({"metadata":{}})") << "weight_map: missing";
        QTest::newRow("weight_map not an object") << QByteArray(R"({"weight_map":[]})") << "weight_map: missing";
        QTest::newRow("duplicate tensor in weight_map")
            << QByteArray(R"({"weight_map":{"a":"model-00001-of-00002.safetensors","a":"x"}})") << "key \"a\" twice";
        QTest::newRow("mapped tensor not in its shard")
            << indexJson(tinyShards().a, tinyShards().b, 0, R"(,"extra.weight":"model-00001-of-00002.safetensors")")
            << "extra.weight: the index places it here but the shard does not hold it";
    }

    void hostileIndexDocument()
    {
        QFETCH(QByteArray, index);
        QFETCH(QString, expect);
        const QString dir = writeShardedFolder(QStringLiteral("st-index-doc"), tinyShards(), index);
        std::string message;
        QCOMPARE(tryOpen(dir.toStdString(), &message), OpenOutcome::FormatError);
        QVERIFY2(QString::fromStdString(message).contains(dir), message.c_str());
        QVERIFY2(QString::fromStdString(message).contains(expect), message.c_str());
    }

    void sameTensorInTwoShards_data()
    {
        QTest::addColumn<QByteArray>("tensor");
        // Shards are opened in the order the index first names them: lm_head.weight comes first
        // alphabetically, so shard 2 is read before shard 1.
        QTest::newRow("stray copy read second") << QByteArray("model.norm.weight");
        QTest::newRow("stray copy read first") << QByteArray("model.layers.0.input_layernorm.weight");
    }

    void sameTensorInTwoShards()
    {
        QFETCH(QByteArray, tensor);
        Shards s = tinyShards();
        const QByteArray index = indexJson(s.a, s.b, 0);
        // Put a copy of the tensor in the shard the index does not name for it.
        const bool indexedInA = tensor.startsWith("model.layers.");
        (indexedInA ? s.b : s.a).add(tensor, "F32", {32}, f32Ramp(32));
        const QString dir = writeShardedFolder(QStringLiteral("st-twice"), s, index);
        std::string message;
        QCOMPARE(tryOpen(dir.toStdString(), &message), OpenOutcome::FormatError);
        QVERIFY2(
            QString::fromStdString(message).contains(QString::fromLatin1(tensor + ": tensor appears in two shards")),
            message.c_str());
    }

    void shapeDisagreesWithConfig()
    {
        SafetensorsBuilder b = tinyLlamaSafetensors();
        b.remove("model.layers.0.self_attn.k_proj.weight");
        b.add("model.layers.0.self_attn.k_proj.weight", "F32", {8, 32}, f32Ramp(256));
        const QString dir = freshTempDir(QStringLiteral("st-shape"));
        writeFile(dir + QStringLiteral("/model.safetensors"), b.build());
        writeFile(dir + QStringLiteral("/config.json"), configJson(tinyLlamaConfigFields()));
        std::string message;
        QCOMPARE(tryOpen(dir.toStdString(), &message), OpenOutcome::FormatError);
        QVERIFY2(QString::fromStdString(message).contains(
                     QStringLiteral("model.layers.0.self_attn.k_proj.weight: shape [8, 32] does not match")),
            message.c_str());
    }

    void writerRoundTrip()
    {
        // The tiny model plus one tensor of every other dtype, scalars and empty tensors.
        SafetensorsBuilder b = tinyLlamaSafetensors();
        std::vector<std::vector<std::byte>> store;
        std::vector<SafetensorsEntry> entries;
        auto bytesOf = [&](const QByteArray &q) {
            store.emplace_back(static_cast<std::size_t>(q.size()));
            if (!q.isEmpty()) // an empty vector's data() may be null, which memcpy must not get
                std::memcpy(store.back().data(), q.constData(), store.back().size());
            return std::span<const std::byte>(store.back());
        };
        for (const auto &e : b.entries)
            entries.push_back({e.name.toStdString(), DType::F32, e.shape, bytesOf(e.data)});
        struct Extra
        {
            const char *name;
            DType dtype;
            std::vector<std::int64_t> shape;
            int bytes;
        };
        const Extra extras[] = {{"x.f16", DType::F16, {3}, 6}, {"x.bf16", DType::BF16, {2, 2}, 8},
            {"x.f64", DType::F64, {1}, 8}, {"x.i8", DType::I8, {5}, 5}, {"x.u8", DType::U8, {1}, 1},
            {"x.bool", DType::Bool, {2}, 2}, {"x.i64", DType::I64, {}, 8}, {"x.empty", DType::F32, {0, 4}, 0},
            {"x.e4m3", DType::F8E4M3, {3}, 3}, {"x.u16", DType::U16, {1}, 2}};
        for (const auto &x : extras) {
            QByteArray d;
            for (int i = 0; i < x.bytes; ++i)
                d += static_cast<char>(i * 7 + 1);
            entries.push_back({x.name, x.dtype, x.shape, bytesOf(d)});
        }
        const QString dir = freshTempDir(QStringLiteral("st-writer"));
        const std::string path = (dir + QStringLiteral("/model.safetensors")).toStdString();
        writeSafetensors(path, entries, {{"source", "tst_safetensorsreader"}});
        QVERIFY(!QFile::exists(QString::fromStdString(path + ".partial")));

        const QByteArray file = readFile(QString::fromStdString(path));
        std::uint64_t n = 0;
        std::memcpy(&n, file.constData(), 8);
        QCOMPARE(n % 8, std::uint64_t(0));
        const auto header = nlohmann::ordered_json::parse(file.mid(8, static_cast<qsizetype>(n)).toStdString());
        QCOMPARE(header["__metadata__"]["format"].get<std::string>(), std::string("pt"));
        QCOMPARE(header["__metadata__"]["source"].get<std::string>(), std::string("tst_safetensorsreader"));
        // Sorted by descending element size, then name; contiguous from 0 with no holes.
        std::uint64_t prevSize = 8, expectBegin = 0;
        std::string prevName;
        for (const auto &[name, e] : header.items()) {
            if (name == "__metadata__")
                continue;
            const auto size = *dtypeElementSize(*dtypeFromSafetensorsName(e["dtype"].get<std::string>()));
            QVERIFY(size <= prevSize);
            if (size == prevSize)
                QVERIFY2(prevName < name, name.c_str());
            prevSize = size;
            prevName = name;
            QCOMPARE(e["data_offsets"][0].get<std::uint64_t>(), expectBegin);
            expectBegin = e["data_offsets"][1].get<std::uint64_t>();
        }
        QCOMPARE(8 + n + expectBegin, std::uint64_t(file.size()));

        auto m = ModelHandle::open(path);
        QVERIFY(m->warnings().size() == 1); // only "no config.json"
        for (const auto &e : entries) {
            const TensorInfo *t = m->find(e.name);
            QVERIFY2(t, e.name.c_str());
            QCOMPARE(t->dtype, e.dtype);
            QCOMPARE(t->shape, e.shape);
            const auto d = m->data(*t);
            QCOMPARE(d.size(), e.data.size());
            QVERIFY(std::equal(d.begin(), d.end(), e.data.begin()));
        }
    }

    void exportRoundTrip_data()
    {
        QTest::addColumn<bool>("fromGguf");
        QTest::newRow("GGUF llama (interleaved, with Q8_0)") << true;
        QTest::newRow("HF folder (rotate_half)") << false;
    }

    void exportRoundTrip()
    {
        QFETCH(bool, fromGguf);
        const QString src = freshTempDir(QStringLiteral("st-export-src"));
        std::shared_ptr<const ModelHandle> model;
        if (fromGguf) {
            GgufBuilder g = tinyLlamaGguf();
            g.tensor("blk.0.ffn_up.weight")->type = gguf::TQ8_0;
            QByteArray q8;
            for (int b = 0; b < 64; ++b)
                q8 += leU16(0x3800) + QByteArray(32, static_cast<char>(b - 32));
            g.tensor("blk.0.ffn_up.weight")->data = q8;
            writeFile(src + QStringLiteral("/tiny.gguf"), g.build());
            model = ModelHandle::open((src + QStringLiteral("/tiny.gguf")).toStdString());
        } else {
            writeFile(src + QStringLiteral("/model.safetensors"), tinyLlamaSafetensors().build());
            writeFile(src + QStringLiteral("/config.json"), configJson(tinyLlamaConfigFields()));
            model = ModelHandle::open(src.toStdString());
        }
        const QString out = freshTempDir(QStringLiteral("st-export-out"));
        exportHuggingFaceFolder(model, out.toStdString());
        auto back = ModelHandle::open(out.toStdString());
        QCOMPARE(back->format(), CheckpointFormat::HuggingFace);
        const Architecture &a = model->architecture(), &b = back->architecture();
        QCOMPARE(b.layers, a.layers);
        QCOMPARE(b.hidden, a.hidden);
        QCOMPARE(b.heads, a.heads);
        QCOMPARE(b.kvHeads, a.kvHeads);
        QCOMPARE(b.vocab, a.vocab);
        QCOMPARE(b.context, a.context);
        QCOMPARE(b.ropeLayout, RopeLayout::RotateHalf);
        QCOMPARE(b.tiedEmbeddings, a.tiedEmbeddings);
        QCOMPARE(back->tensors().size(), model->tensors().size());
        for (const auto &t : model->tensors()) {
            const TensorInfo *u = back->find(t.name);
            QVERIFY2(u, t.name.c_str());
            QCOMPARE(u->shape, t.shape);
            std::vector<float> orig = readAllAsFloat32(t.dtype, model->data(t), t.elementCount());
            std::vector<float> got = readAllAsFloat32(u->dtype, back->data(*u), u->elementCount());
            const bool qk = t.name.find("q_proj") != std::string::npos || t.name.find("k_proj") != std::string::npos;
            if (qk && a.ropeLayout == RopeLayout::Interleaved) {
                // Undo the export's permutation: the rows must come back bit for bit.
                std::vector<float> undone(got.size());
                const std::int64_t heads = t.name.find("q_proj") != std::string::npos ? a.heads : a.kvHeads;
                permuteHalfToInterleaved(reinterpret_cast<const std::byte *>(got.data()),
                    reinterpret_cast<std::byte *>(undone.data()), heads, a.headDim,
                    static_cast<std::size_t>(t.shape[1]) * 4);
                QVERIFY(undone != got); // the permutation did something
                got = undone;
            }
            QVERIFY2(std::memcmp(orig.data(), got.data(), orig.size() * 4) == 0, t.name.c_str());
        }
    }

    void mutationsOfWrittenFile()
    {
        const QString dir = writeTinyFolder(QStringLiteral("st-mutate"), true);
        const QString path = dir + QStringLiteral("/model.safetensors");
        const QByteArray bytes = readFile(path);
        int opened = 0, refused = 0;
        const int n = mutateAndCheck(bytes, path, 256, 512, 4242u, [&] {
            try {
                auto m = ModelHandle::open(path.toStdString());
                for (const auto &t : m->tensors())
                    if (t.loadable && dtypeIsFloatReadable(t.dtype))
                        computeTensorStats(*m, t);
                ++opened;
            } catch (const FormatError &e) {
                QVERIFY2(QString::fromUtf8(e.what()).contains(path), e.what());
                ++refused;
            }
        });
        Q_UNUSED(n);
        QVERIFY(opened > 0 && refused > 0);
        QVERIFY(refused > 0);
    }

    // The streamed writer (exports one tensor in memory at a time): the same file as the writer
    // from spans, and a producer that writes the wrong number of bytes is caught, leaving nothing.
    void streamedWriter()
    {
        const QString dir = freshTempDir(QStringLiteral("st-streamed"));
        const std::vector<float> a{1, 2, 3, 4, 5, 6};
        const std::vector<std::uint16_t> b{7, 8};
        const auto span = [](const auto &v) {
            return std::span<const std::byte>(reinterpret_cast<const std::byte *>(v.data()), v.size() * sizeof v[0]);
        };
        const std::string fromSpans = (dir + QStringLiteral("/spans.safetensors")).toStdString();
        writeSafetensors(fromSpans, {{"b", DType::F16, {2}, span(b)}, {"a", DType::F32, {2, 3}, span(a)}});
        const auto source = [&](const std::string &name, DType t, std::vector<std::int64_t> shape, auto values,
                                std::uint64_t declared) {
            return SafetensorsSource{
                name, t, std::move(shape), declared, [values, span](std::ostream &out) {
                    const auto bytes = span(values);
                    out.write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
                }};
        };
        const std::string streamed = (dir + QStringLiteral("/streamed.safetensors")).toStdString();
        writeSafetensorsStreamed(
            streamed, {source("b", DType::F16, {2}, b, 4), source("a", DType::F32, {2, 3}, a, 24)});
        QCOMPARE(readFile(QString::fromStdString(streamed)), readFile(QString::fromStdString(fromSpans)));
        const std::string wrong = (dir + QStringLiteral("/wrong.safetensors")).toStdString();
        QVERIFY_THROWS_EXCEPTION(
            std::logic_error, writeSafetensorsStreamed(wrong, {source("a", DType::F32, {2, 3}, a, 20)}));
        QVERIFY(!QFile::exists(QString::fromStdString(wrong)));
        QVERIFY(!QFile::exists(QString::fromStdString(wrong + ".partial")));
    }
};

QTEST_GUILESS_MAIN(TestSafetensorsReader)
#include "tst_safetensorsreader.moc"
