// Hugging Face config.json (formats.md §6): defaults per model type, RoPE scaling, biases,
// sliding windows, every hostile-input item, and tensors whose shapes disagree with the config.
#include "common/formaterror.h"
#include "hostile.h"
#include "model/hfconfig.h"
#include "model/modelhandle.h"
#include "safetensorsbuilder.h"
#include "testdata.h"

#include <QTest>

using namespace blockscope;
using namespace blockscope::test;

namespace {

QString writeConfig(const QByteArray &text)
{
    const QString path = freshTempDir(QStringLiteral("hfconfig")) + QStringLiteral("/config.json");
    writeFile(path, text);
    return path;
}

Architecture readConfig(const QByteArray &text, std::vector<std::string> *warnings = nullptr)
{
    std::vector<std::string> w;
    Architecture a = readHfConfig(writeConfig(text).toStdString(), w);
    if (warnings)
        *warnings = w;
    return a;
}

ConfigFields fieldsWith(std::initializer_list<QPair<QByteArray, QByteArray>> changes)
{
    ConfigFields f = tinyLlamaConfigFields();
    for (const auto &[k, v] : changes)
        setField(f, k, v);
    return f;
}

const QByteArray removed; // a null value removes the field

} // namespace

class TestHfConfig : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void defaults_data()
    {
        QTest::addColumn<QByteArray>("modelType");
        QTest::addColumn<qint64>("context");
        QTest::addColumn<qint64>("slidingWindow"); // 0 = none
        QTest::addColumn<bool>("qkvBias");
        QTest::newRow("llama") << QByteArray("llama") << qint64(2048) << qint64(0) << false;
        QTest::newRow("mistral: 4096 window (v0.1)")
            << QByteArray("mistral") << qint64(131072) << qint64(4096) << false;
        QTest::newRow("qwen2: q/k/v biases implied") << QByteArray("qwen2") << qint64(32768) << qint64(0) << true;
    }

    void defaults()
    {
        QFETCH(QByteArray, modelType);
        QFETCH(qint64, context);
        QFETCH(qint64, slidingWindow);
        QFETCH(bool, qkvBias);
        std::vector<std::string> warnings;
        const Architecture a = readConfig(
            configJson(fieldsWith({{"model_type", '"' + modelType + '"'}, {"max_position_embeddings", removed},
                {"num_key_value_heads", removed}, {"tie_word_embeddings", removed}})),
            &warnings);
        QCOMPARE(a.family, modelType.toStdString());
        QCOMPARE(a.context, context);
        QCOMPARE(a.slidingWindow.value_or(0), slidingWindow);
        QCOMPARE(a.qkvBias, qkvBias);
        QCOMPARE(a.attentionBias, false);
        QCOMPARE(a.mlpBias, false);
        QCOMPARE(a.kvHeads, a.heads); // num_key_value_heads defaults to the head count
        QCOMPARE(a.headDim, 8);
        QCOMPARE(a.rmsNormEps, 1e-6);
        QCOMPARE(a.ropeTheta, 10000.0);
        QCOMPARE(a.ropeScaling.type, RopeScaling::Type::None);
        QCOMPARE(a.ropeLayout, RopeLayout::RotateHalf);
        QCOMPARE(a.tiedEmbeddings, false);
        QVERIFY(a.bosTokenIds.empty());
        QVERIFY(warnings.empty());
    }

    void statedValues()
    {
        const Architecture a = readConfig(configJson(fieldsWith({{"rms_norm_eps", "1e-05"}, {"rope_theta", "500000.0"},
            {"tie_word_embeddings", "true"}, {"attention_bias", "true"}, {"mlp_bias", "true"},
            {"hidden_act", R"("silu")"}, {"torch_dtype", R"("bfloat16")"}, {"pretraining_tp", "1"},
            {"bos_token_id", "1"}, {"eos_token_id", "[2, 3]"}})));
        QCOMPARE(a.rmsNormEps, 1e-5);
        QCOMPARE(a.ropeTheta, 500000.0);
        QVERIFY(a.tiedEmbeddings);
        QVERIFY(a.attentionBias);
        QVERIFY(a.mlpBias);
        QCOMPARE(a.bosTokenIds, (std::vector<std::int64_t>{1}));
        QCOMPARE(a.eosTokenIds, (std::vector<std::int64_t>{2, 3})); // lists allowed (Llama-3.1)
    }

    void ropeScaling_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<int>("type");
        QTest::addColumn<double>("factor");
        QTest::addColumn<double>("lo");
        QTest::addColumn<double>("hi");
        QTest::addColumn<qint64>("original");
        QTest::newRow("llama3 (Llama-3.1)")
            << QByteArray(R"({"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,)"
                          R"("original_max_position_embeddings":8192})")
            << int(RopeScaling::Type::Llama3) << 8.0 << 1.0 << 4.0 << qint64(8192);
        QTest::newRow("linear, older 'type' key")
            << QByteArray(R"({"type":"linear","factor":2})") << int(RopeScaling::Type::Linear) << 2.0 << 1.0 << 4.0
            << qint64(8192);
        QTest::newRow("null") << QByteArray("null") << int(RopeScaling::Type::None) << 1.0 << 1.0 << 4.0
                              << qint64(8192);
        QTest::newRow("default type") << QByteArray(R"({"rope_type":"default"})") << int(RopeScaling::Type::None) << 1.0
                                      << 1.0 << 4.0 << qint64(8192);
    }

    void ropeScaling()
    {
        QFETCH(QByteArray, value);
        QFETCH(int, type);
        QFETCH(double, factor);
        QFETCH(double, lo);
        QFETCH(double, hi);
        QFETCH(qint64, original);
        const Architecture a = readConfig(configJson(fieldsWith({{"rope_scaling", value}})));
        QCOMPARE(int(a.ropeScaling.type), type);
        QCOMPARE(a.ropeScaling.factor, factor);
        QCOMPARE(a.ropeScaling.lowFreqFactor, lo);
        QCOMPARE(a.ropeScaling.highFreqFactor, hi);
        QCOMPARE(a.ropeScaling.originalContext, original);
    }

    void headDimGiven()
    {
        // head_dim may differ from hidden / heads; then hidden need not divide by the heads.
        const Architecture a = readConfig(configJson(fieldsWith({{"hidden_size", "30"}, {"head_dim", "16"}})));
        QCOMPARE(a.headDim, 16);
        QCOMPARE(a.hidden, 30);
    }

    void slidingWindows_data()
    {
        QTest::addColumn<QByteArray>("modelType");
        QTest::addColumn<QByteArray>("window");
        QTest::addColumn<QByteArray>("use");
        QTest::addColumn<qint64>("expected"); // 0 = none
        QTest::newRow("mistral null window (v0.2+)")
            << QByteArray("mistral") << QByteArray("null") << QByteArray() << qint64(0);
        QTest::newRow("mistral stated window")
            << QByteArray("mistral") << QByteArray("2048") << QByteArray() << qint64(2048);
        QTest::newRow("qwen2 window not in use")
            << QByteArray("qwen2") << QByteArray("1024") << QByteArray("false") << qint64(0);
        QTest::newRow("qwen2 window in use")
            << QByteArray("qwen2") << QByteArray("1024") << QByteArray("true") << qint64(1024);
        QTest::newRow("llama ignores the key")
            << QByteArray("llama") << QByteArray("1024") << QByteArray() << qint64(0);
    }

    void slidingWindows()
    {
        QFETCH(QByteArray, modelType);
        QFETCH(QByteArray, window);
        QFETCH(QByteArray, use);
        QFETCH(qint64, expected);
        ConfigFields f = fieldsWith({{"model_type", '"' + modelType + '"'}, {"sliding_window", window}});
        if (!use.isEmpty())
            setField(f, "use_sliding_window", use);
        QCOMPARE(readConfig(configJson(f)).slidingWindow.value_or(0), expected);
    }

    void warnings_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("warning");
        QTest::newRow("BOM skipped") << "\xEF\xBB\xBF" + configJson(tinyLlamaConfigFields()) << "byte-order mark";
        QTest::newRow("auto_map: custom code ignored")
            << configJson(fieldsWith({{"auto_map", R"({"AutoModel":"modeling_x.XModel"})"}})) << "custom code ignored";
    }

    void warnings()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, warning);
        std::vector<std::string> w;
        const Architecture a = readConfig(text, &w);
        QCOMPARE(a.family, std::string("llama"));
        QCOMPARE(w.size(), std::size_t(1));
        QVERIFY2(QString::fromStdString(w.front()).contains(warning), w.front().c_str());
    }

    void hostile_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("expect");
        auto cfg = [](std::initializer_list<QPair<QByteArray, QByteArray>> changes) {
            return configJson(fieldsWith(changes));
        };
        const QByteArray scaling = R"({"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,)"
                                   R"("original_max_position_embeddings":8192})";
        auto scalingWithout = [&](const QByteArray &field) {
            QByteArray s = scaling;
            const qsizetype at = s.indexOf("\"" + field + "\"");
            const qsizetype end = s.indexOf(',', at) >= 0 ? s.indexOf(',', at) + 1 : s.indexOf('}', at);
            s.remove(at, end - at);
            return s.replace(",}", "}");
        };

        QTest::newRow("empty file") << QByteArray() << "config: is not valid JSON";
        QTest::newRow("not UTF-8") << QByteArray("{\"model_type\":\"ll\xff\"}") << "config: is not valid UTF-8";
        QTest::newRow("BOM then invalid UTF-8") << QByteArray("\xEF\xBB\xBF{\"a\":\"\xc0\x80\"}") << "not valid UTF-8";
        QTest::newRow("not an object") << QByteArray("[1, 2]") << "config: must be a JSON object";
        QTest::newRow("a bare string") << QByteArray("\"llama\"") << "must be a JSON object";
        QTest::newRow("duplicate key") << configJson(tinyLlamaConfigFields() + ConfigFields{{"hidden_size", "64"}})
                                       << "key \"hidden_size\" twice";
        QTest::newRow("NaN") << cfg({{"rms_norm_eps", "NaN"}}) << "not valid JSON";
        QTest::newRow("Infinity") << cfg({{"rope_theta", "Infinity"}}) << "not valid JSON";
        QTest::newRow("overflowing number") << cfg({{"rope_theta", "1e400"}}) << "number overflow";
        QTest::newRow("model_type missing") << cfg({{"model_type", removed}}) << "model_type: required key is missing";
        QTest::newRow("model_type unknown") << cfg({{"model_type", R"("gemma")"}}) << "unknown architecture \"gemma\"";
        QTest::newRow("model_type not a string") << cfg({{"model_type", "1"}}) << "model_type: must be a string";
        QTest::newRow("unknown model_type with auto_map")
            << cfg({{"model_type", R"("custom")"}, {"auto_map", "{}"}}) << "unknown architecture \"custom\"";
        QTest::newRow("string for int") << cfg({{"hidden_size", R"("32")"}}) << "hidden_size: must be an integer";
        QTest::newRow("float for int") << cfg({{"hidden_size", "32.0"}}) << "hidden_size: must be an integer";
        QTest::newRow("bool for int") << cfg({{"num_hidden_layers", "true"}})
                                      << "num_hidden_layers: must be an integer";
        QTest::newRow("int for bool") << cfg({{"tie_word_embeddings", "1"}})
                                      << "tie_word_embeddings: must be true or false";
        QTest::newRow("string for bool") << cfg({{"attention_bias", R"("yes")"}})
                                         << "attention_bias: must be true or false";
        QTest::newRow("negative dim") << cfg({{"hidden_size", "-32"}}) << "hidden_size: value -32 is outside 1..";
        QTest::newRow("zero dim") << cfg({{"intermediate_size", "0"}}) << "intermediate_size: value 0";
        QTest::newRow("dim above 2^63") << cfg({{"hidden_size", "9223372036854775808"}}) << "hidden_size: value";
        QTest::newRow("required dim missing")
            << cfg({{"intermediate_size", removed}}) << "intermediate_size: required key is missing";
        QTest::newRow("vocab missing") << cfg({{"vocab_size", removed}}) << "vocab_size: required key is missing";
        QTest::newRow("hidden beyond cap") << cfg({{"hidden_size", "131073"}}) << "hidden_size: value 131073";
        QTest::newRow("layers beyond cap") << cfg({{"num_hidden_layers", "1025"}}) << "num_hidden_layers: value 1025";
        QTest::newRow("heads beyond cap")
            << cfg({{"num_attention_heads", "1025"}}) << "num_attention_heads: value 1025";
        QTest::newRow("ffn beyond cap") << cfg({{"intermediate_size", "1048577"}}) << "intermediate_size: value";
        QTest::newRow("vocab beyond cap") << cfg({{"vocab_size", "4194305"}}) << "vocab_size: value 4194305";
        QTest::newRow("context beyond cap")
            << cfg({{"max_position_embeddings", "16777217"}}) << "max_position_embeddings: value";
        QTest::newRow("hidden not divisible by heads")
            << cfg({{"hidden_size", "30"}}) << "hidden_size: 30 is not divisible by num_attention_heads 4";
        QTest::newRow("kv heads not dividing heads")
            << cfg({{"num_key_value_heads", "3"}}) << "num_key_value_heads: 3 does not divide";
        QTest::newRow("kv heads above heads")
            << cfg({{"num_key_value_heads", "8"}}) << "num_key_value_heads: 8 does not divide";
        QTest::newRow("odd head_dim") << cfg({{"head_dim", "7"}}) << "head_dim: head dimension 7 is odd";
        QTest::newRow("zero head_dim") << cfg({{"head_dim", "0"}}) << "head_dim: value 0";
        QTest::newRow("activation not silu") << cfg({{"hidden_act", R"("gelu")"}}) << "hidden_act: activation \"gelu\"";
        QTest::newRow("rms eps zero") << cfg({{"rms_norm_eps", "0"}}) << "rms_norm_eps: must be a small positive";
        QTest::newRow("rms eps string") << cfg({{"rms_norm_eps", R"("1e-5")"}}) << "rms_norm_eps: must be a number";
        QTest::newRow("rope theta below 1") << cfg({{"rope_theta", "0.5"}}) << "rope_theta: must be above 1";
        QTest::newRow("rope_scaling not an object")
            << cfg({{"rope_scaling", R"("linear")"}}) << "rope_scaling: must be an object or null";
        QTest::newRow("rope_scaling unknown type") << cfg({{"rope_scaling", R"({"rope_type":"dynamic","factor":2})"}})
                                                   << "rope type \"dynamic\" is not supported";
        QTest::newRow("rope_scaling yarn")
            << cfg({{"rope_scaling", R"({"type":"yarn","factor":4})"}}) << "rope type \"yarn\" is not supported";
        QTest::newRow("rope_scaling without a type")
            << cfg({{"rope_scaling", R"({"factor":8.0})"}}) << "rope_scaling.rope_type: required key is missing";
        QTest::newRow("rope_scaling type not a string")
            << cfg({{"rope_scaling", R"({"rope_type":3})"}}) << "rope_scaling.rope_type: must be a string";
        QTest::newRow("rope_scaling factor below 1")
            << cfg({{"rope_scaling", R"({"rope_type":"linear","factor":0.5})"}})
            << "rope_scaling.factor: must be at least 1";
        QTest::newRow("rope_scaling factor a string")
            << cfg({{"rope_scaling", R"({"rope_type":"linear","factor":"2"})"}})
            << "rope_scaling.factor: must be a number";
        QTest::newRow("rope_scaling factor missing") << cfg({{"rope_scaling", R"({"rope_type":"linear"})"}})
                                                     << "rope_scaling.factor: required for rope type linear";
        QTest::newRow("llama3 lo >= hi") << cfg(
            {{"rope_scaling", QByteArray(scaling).replace("\"low_freq_factor\":1.0", "\"low_freq_factor\":4.0")}})
                                         << "rope_scaling.low_freq_factor: must be positive and below high_freq_factor";
        QTest::newRow("llama3 missing low_freq_factor")
            << cfg({{"rope_scaling", scalingWithout("low_freq_factor")}})
            << "rope_scaling.low_freq_factor: required for rope type llama3";
        QTest::newRow("llama3 missing high_freq_factor")
            << cfg({{"rope_scaling", scalingWithout("high_freq_factor")}}) << "rope_scaling.high_freq_factor: required";
        QTest::newRow("llama3 missing original context")
            << cfg({{"rope_scaling", scalingWithout("original_max_position_embeddings")}})
            << "rope_scaling.original_max_position_embeddings: required for rope type llama3";
        QTest::newRow("llama3 original context a float")
            << cfg({{"rope_scaling", QByteArray(scaling).replace(":8192", ":8192.5")}})
            << "rope_scaling.original_max_position_embeddings: must be an integer";
        QTest::newRow("eos id out of range")
            << cfg({{"eos_token_id", "16"}}) << "eos_token_id: token id 16 is outside the vocabulary of 16";
        QTest::newRow("eos list with an id out of range")
            << cfg({{"eos_token_id", "[2, 99]"}}) << "eos_token_id: token id 99";
        QTest::newRow("eos id negative") << cfg({{"eos_token_id", "-1"}}) << "eos_token_id: token id -1";
        QTest::newRow("bos id a string") << cfg({{"bos_token_id", R"("1")"}})
                                         << "bos_token_id: token ids must be integers";
        QTest::newRow("mistral window a string")
            << cfg({{"model_type", R"("mistral")"}, {"sliding_window", R"("4096")"}})
            << "sliding_window: must be an integer";
        QTest::newRow("mistral window zero")
            << cfg({{"model_type", R"("mistral")"}, {"sliding_window", "0"}}) << "sliding_window: value 0";
        QTest::newRow("qwen2 window in use but null")
            << cfg({{"model_type", R"("qwen2")"}, {"use_sliding_window", "true"}, {"sliding_window", "null"}})
            << "sliding_window: required key is missing";
        QTest::newRow("nesting 65 deep") << cfg({{"x", QByteArray(65, '[') + QByteArray(65, ']')}})
                                         << "nests deeper than 64";
    }

    void hostile()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, expect);
        const QString path = writeConfig(text);
        std::vector<std::string> warnings;
        try {
            readHfConfig(path.toStdString(), warnings);
            QFAIL("a hostile config.json was accepted");
        } catch (const FormatError &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(path), e.what());
            QVERIFY2(QString::fromUtf8(e.what()).contains(expect), e.what());
        }
    }

    // The config decides every tensor's shape; a file whose tensors disagree is refused before
    // any tensor is read, naming the tensor.
    void tensorsDisagreeWithConfig_data()
    {
        QTest::addColumn<QByteArray>("config");
        QTest::addColumn<QString>("expect");
        auto cfg = [](std::initializer_list<QPair<QByteArray, QByteArray>> changes) {
            return configJson(fieldsWith(changes));
        };
        QTest::newRow("vocab_size vs embedding rows")
            << cfg({{"vocab_size", "17"}}) << "shape [16, 32] does not match the configuration, which needs [17, 32]";
        QTest::newRow("intermediate size") << cfg({{"intermediate_size", "48"}})
                                           << "model.layers.0.mlp.down_proj.weight: shape [32, 64] does not match";
        QTest::newRow("kv heads") << cfg({{"num_key_value_heads", "4"}})
                                  << "model.layers.0.self_attn.k_proj.weight: shape [16, 32] does not match";
        QTest::newRow("head_dim") << cfg({{"head_dim", "16"}})
                                  << "model.layers.0.self_attn.k_proj.weight: shape [16, 32] does not match the "
                                     "configuration, which needs [32, 32]";
        QTest::newRow("layers") << cfg({{"num_hidden_layers", "2"}})
                                << "model.layers.1.input_layernorm.weight: required tensor is missing";
        QTest::newRow("attention_bias needs biases")
            << cfg({{"attention_bias", "true"}}) << "model.layers.0.self_attn.k_proj.bias: required tensor is missing";
        QTest::newRow("qwen2 needs q/k/v biases") << cfg({{"model_type", R"("qwen2")"}})
                                                  << "model.layers.0.self_attn.k_proj.bias: required tensor is missing";
        QTest::newRow("untied without lm_head") << QByteArray() << "lm_head.weight: required tensor is missing";
    }

    void tensorsDisagreeWithConfig()
    {
        QFETCH(QByteArray, config);
        QFETCH(QString, expect);
        SafetensorsBuilder b = tinyLlamaSafetensors();
        if (config.isEmpty()) {
            b.remove("lm_head.weight");
            config = configJson(tinyLlamaConfigFields());
        }
        const QString dir = freshTempDir(QStringLiteral("hfconfig-shapes"));
        writeFile(dir + QStringLiteral("/model.safetensors"), b.build());
        writeFile(dir + QStringLiteral("/config.json"), config);
        std::string message;
        QCOMPARE(tryOpen(dir.toStdString(), &message), OpenOutcome::FormatError);
        QVERIFY2(QString::fromStdString(message).contains(dir), message.c_str());
        QVERIFY2(QString::fromStdString(message).contains(expect), message.c_str());
    }

    void tiedButLmHeadPresentWarns()
    {
        const QString dir = freshTempDir(QStringLiteral("hfconfig-tied"));
        writeFile(dir + QStringLiteral("/model.safetensors"), tinyLlamaSafetensors().build());
        writeFile(dir + QStringLiteral("/config.json"), configJson(fieldsWith({{"tie_word_embeddings", "true"}})));
        auto m = ModelHandle::open(dir.toStdString());
        QCOMPARE(m->warnings().size(), std::size_t(1));
        QVERIFY(m->warnings().front().find("lm_head.weight is present") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestHfConfig)
#include "tst_hfconfig.moc"
