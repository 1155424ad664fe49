#pragma once

#include "architecture.h"
#include "tensorinfo.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace blockscope {

// The canonical tensor names are Hugging Face's; GGUF and llama2.c names map onto them.
struct TensorPlace
{
    TensorRole role = TensorRole::Other;
    int block = -1;
};

TensorPlace classifyTensorName(std::string_view hfName);

// "blk.3.attn_q.weight" -> "model.layers.3.self_attn.q_proj.weight"; nullopt for unknown names.
std::optional<std::string> ggufToHfName(std::string_view ggufName);
// The inverse: "model.layers.3.self_attn.q_proj.weight" -> "blk.3.attn_q.weight".
std::optional<std::string> hfToGgufName(std::string_view hfName);

struct ExpectedTensor
{
    std::vector<std::int64_t> shape;
    bool required = true;
};

// Every tensor a decoder with this architecture has, with its shape. Used to check a file's
// tensors before anything is allocated from them.
std::map<std::string, ExpectedTensor> expectedTensors(const Architecture &arch);

std::string layerPrefix(int layer);

} // namespace blockscope
