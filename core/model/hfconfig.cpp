#include "hfconfig.h"

#include "common/formaterror.h"
#include "common/limits.h"
#include "common/mappedfile.h"
#include "common/strictjson.h"

#include <cmath>

namespace blockscope {

namespace {

using nlohmann::json;

class ConfigReader
{
public:
    // `prefix` names a nested object ("rope_scaling.") so errors give the key's full path.
    ConfigReader(const json &j, std::string path, std::string prefix = {})
        : m_j(j)
        , m_path(std::move(path))
        , m_prefix(std::move(prefix))
    {
    }

    [[noreturn]] void fail(const std::string &key, const std::string &message) const
    {
        throw FormatError(m_path, FormatError::NoOffset, m_prefix + key, message);
    }

    const json *get(const std::string &key) const
    {
        auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null())
            return nullptr;
        return &*it;
    }

    std::int64_t integer(const std::string &key, std::int64_t cap, std::optional<std::int64_t> def = std::nullopt) const
    {
        const json *v = get(key);
        if (!v) {
            if (def)
                return *def;
            fail(key, "required key is missing");
        }
        if (!v->is_number_integer())
            fail(key, "must be an integer, not " + std::string(v->type_name()) + " " + v->dump());
        if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
            fail(key, "value " + v->dump() + " is out of range");
        const auto i = v->get<std::int64_t>();
        if (i <= 0 || i > cap)
            fail(key, "value " + std::to_string(i) + " is outside 1.." + std::to_string(cap));
        return i;
    }

    double number(const std::string &key, double def) const
    {
        const json *v = get(key);
        if (!v)
            return def;
        if (!v->is_number())
            fail(key, "must be a number, not " + std::string(v->type_name()));
        const double d = v->get<double>();
        if (!std::isfinite(d))
            fail(key, "must be finite");
        return d;
    }

    bool boolean(const std::string &key, bool def) const
    {
        const json *v = get(key);
        if (!v)
            return def;
        if (!v->is_boolean())
            fail(key, "must be true or false, not " + v->dump());
        return v->get<bool>();
    }

    std::string string(const std::string &key, bool required) const
    {
        const json *v = get(key);
        if (!v) {
            if (required)
                fail(key, "required key is missing");
            return {};
        }
        if (!v->is_string())
            fail(key, "must be a string, not " + std::string(v->type_name()));
        return v->get<std::string>();
    }

    std::vector<std::int64_t> ids(const std::string &key, std::int64_t vocab) const
    {
        const json *v = get(key);
        std::vector<std::int64_t> out;
        if (!v)
            return out;
        auto one = [&](const json &x) {
            if (!x.is_number_integer())
                fail(key, "token ids must be integers");
            const auto id = x.get<std::int64_t>();
            if (id < 0 || id >= vocab)
                fail(key, "token id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(vocab));
            out.push_back(id);
        };
        if (v->is_array()) {
            for (const auto &x : *v)
                one(x);
        } else {
            one(*v);
        }
        return out;
    }

private:
    const json &m_j;
    std::string m_path;
    std::string m_prefix;
};

} // namespace

Architecture readHfConfig(const std::string &path, std::vector<std::string> &warnings)
{
    auto file = MappedFile::open(path);
    if (file->size() > defaultCaps().maxJsonBytes)
        throw FormatError(path, FormatError::NoOffset, "", "config is larger than 100 MB");
    std::string_view text(reinterpret_cast<const char *>(file->data()), file->size());
    StrictJsonOptions opts;
    opts.allowBom = true;
    bool bom = false;
    const json j = parseStrictJson(text, path, "config", opts, &bom);
    if (bom)
        warnings.push_back(path + " starts with a UTF-8 byte-order mark (skipped)");
    if (!j.is_object())
        throw FormatError(path, 0, "config", "must be a JSON object");
    ConfigReader r(j, path);
    const SanityCaps &caps = defaultCaps();

    Architecture a;
    a.family = r.string("model_type", true);
    if (a.family != "llama" && a.family != "mistral" && a.family != "qwen2")
        r.fail("model_type", "unknown architecture \"" + a.family + "\" (llama, mistral and qwen2 are supported)");
    if (j.contains("auto_map"))
        warnings.push_back(path + ": auto_map present: custom code ignored (no code is ever executed)");
    const std::string act = r.string("hidden_act", false);
    if (!act.empty() && act != "silu")
        r.fail("hidden_act", "activation \"" + act + "\" is not supported (only silu)");

    a.hidden = r.integer("hidden_size", caps.maxHidden);
    a.intermediate = r.integer("intermediate_size", caps.maxFfn);
    a.layers = r.integer("num_hidden_layers", caps.maxLayers);
    a.heads = r.integer("num_attention_heads", caps.maxHeads);
    a.kvHeads = r.integer("num_key_value_heads", caps.maxHeads, a.heads);
    if (a.heads % a.kvHeads != 0)
        r.fail("num_key_value_heads",
            std::to_string(a.kvHeads) + " does not divide num_attention_heads " + std::to_string(a.heads));
    if (r.get("head_dim")) {
        a.headDim = r.integer("head_dim", caps.maxHidden);
    } else {
        if (a.hidden % a.heads != 0)
            r.fail("hidden_size",
                std::to_string(a.hidden) + " is not divisible by num_attention_heads " + std::to_string(a.heads));
        a.headDim = a.hidden / a.heads;
    }
    if (a.headDim % 2 != 0)
        r.fail("head_dim", "head dimension " + std::to_string(a.headDim) + " is odd; RoPE rotates pairs");
    a.vocab = r.integer("vocab_size", caps.maxVocab);
    // transformers' defaults: LlamaConfig 2048, MistralConfig 4096 * 32, Qwen2Config 32768.
    const std::int64_t defaultContext = a.family == "llama" ? 2048 : a.family == "mistral" ? 131072 : 32768;
    a.context = r.integer("max_position_embeddings", caps.maxContext, defaultContext);
    a.rmsNormEps = r.number("rms_norm_eps", 1e-6);
    if (!(a.rmsNormEps > 0) || a.rmsNormEps > 1)
        r.fail("rms_norm_eps", "must be a small positive number");
    // transformers 5 writes the RoPE settings as one object, "rope_parameters" = {rope_theta,
    // rope_type, factor, ...}; older files use "rope_theta" and "rope_scaling".
    const json *ropeParams = r.get("rope_parameters");
    if (ropeParams && !ropeParams->is_object())
        r.fail("rope_parameters", "must be an object or null");
    const std::string ropeKey = ropeParams ? "rope_parameters" : "rope_scaling";
    if (ropeParams) {
        ConfigReader p(*ropeParams, path, "rope_parameters.");
        a.ropeTheta = p.number("rope_theta", 10000.0);
        if (!(a.ropeTheta > 1))
            p.fail("rope_theta", "must be above 1");
    } else {
        a.ropeTheta = r.number("rope_theta", 10000.0);
        if (!(a.ropeTheta > 1))
            r.fail("rope_theta", "must be above 1");
    }
    a.ropeLayout = RopeLayout::RotateHalf;
    a.tiedEmbeddings = r.boolean("tie_word_embeddings", false);
    if (a.family == "llama") {
        a.attentionBias = r.boolean("attention_bias", false);
        a.mlpBias = r.boolean("mlp_bias", false);
    }
    a.qkvBias = a.family == "qwen2";

    if (const json *rs = ropeParams ? ropeParams : r.get("rope_scaling")) {
        if (!rs->is_object())
            r.fail("rope_scaling", "must be an object or null");
        ConfigReader s(*rs, path, ropeKey + ".");
        // An object without a type would otherwise be read as "no scaling" and silently run the
        // model at the wrong frequencies.
        const std::string type
            = !rs->contains("rope_type") && rs->contains("type") ? s.string("type", true) : s.string("rope_type", true);
        auto need = [&](const char *k) {
            if (!s.get(k))
                s.fail(k, "required for rope type " + type);
            return s.number(k, 0);
        };
        if (type == "default") {
            // no scaling
        } else if (type == "linear" || type == "llama3") {
            a.ropeScaling.type = type == "linear" ? RopeScaling::Type::Linear : RopeScaling::Type::Llama3;
            a.ropeScaling.factor = need("factor");
            if (!(a.ropeScaling.factor >= 1))
                s.fail("factor", "must be at least 1");
            if (type == "llama3") {
                a.ropeScaling.lowFreqFactor = need("low_freq_factor");
                a.ropeScaling.highFreqFactor = need("high_freq_factor");
                if (!(a.ropeScaling.lowFreqFactor > 0) || !(a.ropeScaling.lowFreqFactor < a.ropeScaling.highFreqFactor))
                    s.fail("low_freq_factor", "must be positive and below high_freq_factor");
                if (!s.get("original_max_position_embeddings"))
                    s.fail("original_max_position_embeddings", "required for rope type llama3");
                a.ropeScaling.originalContext = s.integer("original_max_position_embeddings", caps.maxContext);
            }
        } else {
            r.fail(ropeKey, "rope type \"" + type + "\" is not supported (linear and llama3 are)");
        }
    }

    if (a.family == "mistral") {
        if (j.contains("sliding_window")) {
            if (r.get("sliding_window"))
                a.slidingWindow = r.integer("sliding_window", caps.maxContext);
        } else {
            a.slidingWindow = 4096;
        }
    } else if (a.family == "qwen2" && r.boolean("use_sliding_window", false)) {
        a.slidingWindow = r.integer("sliding_window", caps.maxContext);
    }
    a.bosTokenIds = r.ids("bos_token_id", a.vocab);
    a.eosTokenIds = r.ids("eos_token_id", a.vocab);
    return a;
}

} // namespace blockscope
