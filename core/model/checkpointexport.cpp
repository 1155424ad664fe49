#include "checkpointexport.h"

#include "common/atomicfile.h"

#include "model/modelhandle.h"
#include "model/tensorvalues.h"
#include "safetensorswriter.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace blockscope {

void permuteInterleavedToHalf(
    const std::byte *in, std::byte *out, std::int64_t heads, std::int64_t hd, std::size_t rowBytes)
{
    for (std::int64_t h = 0; h < heads; ++h)
        for (std::int64_t j = 0; j < hd; ++j) {
            const std::int64_t src = j < hd / 2 ? 2 * j : 2 * (j - hd / 2) + 1;
            std::memcpy(out + (h * hd + j) * rowBytes, in + (h * hd + src) * rowBytes, rowBytes);
        }
}

void permuteHalfToInterleaved(
    const std::byte *in, std::byte *out, std::int64_t heads, std::int64_t hd, std::size_t rowBytes)
{
    for (std::int64_t h = 0; h < heads; ++h)
        for (std::int64_t i = 0; i < hd / 2; ++i)
            for (int c = 0; c < 2; ++c)
                std::memcpy(out + (h * hd + 2 * i + c) * rowBytes, in + (h * hd + c * hd / 2 + i) * rowBytes, rowBytes);
}

std::string hfConfigJson(const Architecture &a, const std::string &torchDtype)
{
    nlohmann::ordered_json j;
    j["architectures"] = {a.family == "qwen2" ? "Qwen2ForCausalLM"
            : a.family == "mistral"           ? "MistralForCausalLM"
                                              : "LlamaForCausalLM"};
    j["model_type"] = a.family;
    j["hidden_size"] = a.hidden;
    j["intermediate_size"] = a.intermediate;
    j["num_hidden_layers"] = a.layers;
    j["num_attention_heads"] = a.heads;
    j["num_key_value_heads"] = a.kvHeads;
    if (a.headDim * a.heads != a.hidden)
        j["head_dim"] = a.headDim;
    j["hidden_act"] = "silu";
    j["max_position_embeddings"] = a.context;
    j["rms_norm_eps"] = a.rmsNormEps;
    j["rope_theta"] = a.ropeTheta;
    if (a.ropeScaling.type == RopeScaling::Type::Linear) {
        j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", a.ropeScaling.factor}};
    } else if (a.ropeScaling.type == RopeScaling::Type::Llama3) {
        j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", a.ropeScaling.factor},
            {"low_freq_factor", a.ropeScaling.lowFreqFactor}, {"high_freq_factor", a.ropeScaling.highFreqFactor},
            {"original_max_position_embeddings", a.ropeScaling.originalContext}};
    } else {
        j["rope_scaling"] = nullptr;
    }
    j["tie_word_embeddings"] = a.tiedEmbeddings;
    if (a.family == "llama") {
        j["attention_bias"] = a.attentionBias;
        j["mlp_bias"] = a.mlpBias;
    }
    j["vocab_size"] = a.vocab;
    if (!a.bosTokenIds.empty())
        j["bos_token_id"] = a.bosTokenIds.front();
    if (!a.eosTokenIds.empty())
        j["eos_token_id"] = a.eosTokenIds.front();
    // As hfconfig.cpp reads them back: Mistral's window defaults to 4096 when the key is absent.
    if (a.family == "mistral") {
        j["sliding_window"] = a.slidingWindow ? nlohmann::ordered_json(*a.slidingWindow) : nlohmann::ordered_json();
    } else if (a.family == "qwen2") {
        j["use_sliding_window"] = a.slidingWindow.has_value();
        if (a.slidingWindow)
            j["sliding_window"] = *a.slidingWindow;
    }
    j["torch_dtype"] = torchDtype;
    return j.dump(2) + "\n";
}

void exportHuggingFaceFolder(const std::shared_ptr<const ModelHandle> &model, const std::string &folder)
{
    std::filesystem::create_directories(folder);
    const Architecture &a = model->architecture();
    Architecture out = a;
    out.ropeLayout = RopeLayout::RotateHalf;
    std::vector<std::vector<std::byte>> owned;
    std::vector<SafetensorsEntry> entries;
    for (const auto &t : model->tensors()) {
        if (t.role == TensorRole::Other || !t.loadable)
            continue;
        SafetensorsEntry e{t.name, t.dtype, t.shape, model->data(t)};
        if (dtypeIsBlockQuantised(t.dtype)) {
            auto values = readAllAsFloat32(t.dtype, e.data, t.elementCount());
            owned.emplace_back(values.size() * 4);
            std::memcpy(owned.back().data(), values.data(), owned.back().size());
            e.dtype = DType::F32;
            e.data = owned.back();
        }
        const bool isQ = t.name.ends_with("q_proj.weight") || t.name.ends_with("q_proj.bias");
        const bool isK = t.name.ends_with("k_proj.weight") || t.name.ends_with("k_proj.bias");
        if (a.ropeLayout == RopeLayout::Interleaved && (isQ || isK)) {
            const std::int64_t heads = isQ ? a.heads : a.kvHeads;
            const std::size_t rowBytes = e.data.size() / static_cast<std::size_t>(heads * a.headDim);
            std::vector<std::byte> p(e.data.size());
            permuteInterleavedToHalf(e.data.data(), p.data(), heads, a.headDim, rowBytes);
            owned.push_back(std::move(p));
            e.data = owned.back();
        }
        entries.push_back(std::move(e));
    }
    writeSafetensors((std::filesystem::path(folder) / "model.safetensors").string(), std::move(entries));
    writeFileAtomically((std::filesystem::path(folder) / "config.json").string(), hfConfigJson(out));
}

} // namespace blockscope
