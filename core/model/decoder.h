#pragma once

// The Llama-family decoder on LibTorch (Llama 1/2/3, Mistral, Qwen2, TinyLlama, SmolLM, llama2.c).
// CPU and CUDA through the same code; float32, bfloat16 and float16.

#include "architecture.h"
#include "unitmask.h"

#include <ATen/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace blockscope {

class ModelHandle;

struct DecoderOptions
{
    c10::Device device = c10::Device(c10::kCPU);
    c10::ScalarType dtype = c10::kFloat;
};

// What one attention sublayer sees, handed to ForwardCapture::attentionHook.
struct AttentionInputs
{
    int layer = 0;
    at::Tensor queriesPreRope; // [B, T, H, hd] output of q_proj (bias included), before RoPE
    at::Tensor keysPreRope; // [B, T, Hkv, hd]
    at::Tensor queries; // [B, H, T, hd] after RoPE
    at::Tensor keys; // [B, Hkv, T, hd] after RoPE (not repeated for GQA)
    at::Tensor values; // [B, Hkv, T, hd]
    double scale = 1.0; // 1/sqrt(hd)
    std::int64_t positionOffset = 0;
};

// What a forward pass records besides the logits.
struct ForwardCapture
{
    enum class Attention { None, Full, Pooled };

    bool hiddenStates = false; // h_0 .. h_L at block boundaries (h_L before the final norm)
    Attention attention = Attention::None;
    int poolTile = 64; // tile size for Pooled

    std::vector<at::Tensor> hidden; // L+1 tensors [B, T, d]
    // Per layer: Full -> probabilities [B, H, T, T] (float32); Pooled -> max and sum over
    // poolTile x poolTile tiles [B, H, nT, nT] (float32), computed tile row by tile row so the
    // full T x T matrix is never held. A skipped attention sublayer leaves an undefined tensor.
    std::vector<at::Tensor> attention_probs;
    std::vector<at::Tensor> attention_pooled_max;
    std::vector<at::Tensor> attention_pooled_sum;

    // Called in every attention sublayer that runs. It may record what it needs (gate features,
    // ground truth) and return the attention output [B, H, T, hd] to use instead of dense causal
    // attention (block-sparse attention), or an undefined tensor to keep the dense output.
    std::function<at::Tensor(const AttentionInputs &)> attentionHook;
};

class Decoder
{
public:
    // Builds the decoder over the handle's weights. On CPU with a matching dtype the weights are
    // views of the memory map (no copy). Throws std::invalid_argument naming the problem when the
    // model cannot run (unknown heads, a quantisation without compute support, no CUDA).
    Decoder(std::shared_ptr<const ModelHandle> model, DecoderOptions options = {});
    // A decoder over tensors held in memory, named as Hugging Face names them (training, tests).
    // Tensors are used as given (no copy); lm_head.weight may be absent when embeddings are tied.
    Decoder(const Architecture &architecture, const std::map<std::string, at::Tensor> &weights,
        DecoderOptions options = {});
    ~Decoder();
    Decoder(const Decoder &) = delete;
    Decoder &operator=(const Decoder &) = delete;

    const Architecture &architecture() const;
    const DecoderOptions &options() const;
    int layers() const;

    // tokens [B, T] int64 -> hidden [B, T, d] in the decoder's dtype and device.
    at::Tensor embed(const at::Tensor &tokens) const;
    // Runs blocks [first, last) on `hidden` (the state entering block `first`), honouring the
    // mask. `positionOffset` is the position of the first token.
    at::Tensor forwardBlocks(at::Tensor hidden, int first, int last, const UnitMask &mask,
        ForwardCapture *capture = nullptr, std::int64_t positionOffset = 0) const;
    // Final norm and LM head: hidden [B, T, d] -> logits [B, T, V] in float32.
    at::Tensor logits(const at::Tensor &hidden) const;
    at::Tensor finalNorm(const at::Tensor &hidden) const;
    // The whole model: tokens [B, T] -> logits [B, T, V] float32.
    at::Tensor forward(const at::Tensor &tokens, const UnitMask &mask, ForwardCapture *capture = nullptr) const;

    // Bytes of weight storage this decoder holds that are not views of the memory map.
    std::uint64_t ownedWeightBytes() const;
    // Every weight by its Hugging Face name (tied lm_head omitted), e.g. for training or export.
    std::map<std::string, at::Tensor> namedWeights() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace blockscope
