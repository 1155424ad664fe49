#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace blockscope {

enum class CheckpointFormat { HuggingFace, Safetensors, Gguf, Llama2c };
std::string formatName(CheckpointFormat f);

// Which components of a head RoPE rotates together (formats.md §7). Interleaved checkpoints
// (llama2.c, GGUF "llama") keep Meta's q/k row order; rotate_half ones keep Hugging Face's.
enum class RopeLayout { Interleaved, RotateHalf };

struct RopeScaling
{
    enum class Type { None, Linear, Llama3 } type = Type::None;
    double factor = 1.0;
    double lowFreqFactor = 1.0;
    double highFreqFactor = 4.0;
    std::int64_t originalContext = 8192;
};

// The architecture of a Llama-family decoder, the same whatever file it came from.
struct Architecture
{
    std::string family; // "llama", "mistral", "qwen2"
    std::int64_t layers = 0;
    std::int64_t hidden = 0;
    std::int64_t intermediate = 0;
    std::int64_t heads = 0; // 0 when the file does not say (a bare .safetensors)
    std::int64_t kvHeads = 0;
    std::int64_t headDim = 0;
    std::int64_t vocab = 0;
    std::int64_t context = 0; // the trained context as the file states it
    double rmsNormEps = 1e-5;
    double ropeTheta = 10000.0;
    RopeScaling ropeScaling;
    RopeLayout ropeLayout = RopeLayout::RotateHalf;
    bool tiedEmbeddings = false;
    bool attentionBias = false; // q/k/v/o biases (Llama attention_bias)
    bool qkvBias = false; // q/k/v biases only (Qwen2)
    bool mlpBias = false;
    std::optional<std::int64_t> slidingWindow;
    std::vector<std::int64_t> bosTokenIds;
    std::vector<std::int64_t> eosTokenIds;
};

} // namespace blockscope
