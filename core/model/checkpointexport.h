#pragma once

#include <memory>
#include <string>

namespace blockscope {

class ModelHandle;
struct Architecture;

// Writes `model` as a Hugging Face folder (config.json + model.safetensors) that transformers
// loads. q/k rows stored in the interleaved (Meta) order are permuted to rotate_half order
// (formats.md §7), so the exported model computes the same logits. Creates `folder` if needed.
void exportHuggingFaceFolder(const std::shared_ptr<const ModelHandle> &model, const std::string &folder);

// config.json text for an architecture (Llama family) whose weights are stored as `torchDtype`.
std::string hfConfigJson(const Architecture &arch, const std::string &torchDtype = "float32");

// Row permutation of one projection from interleaved to rotate_half order within each head:
// out row h*hd + j = in row h*hd + pi(j). `rows` = heads * headDim; `rowBytes` bytes per row.
void permuteInterleavedToHalf(
    const std::byte *in, std::byte *out, std::int64_t heads, std::int64_t headDim, std::size_t rowBytes);
void permuteHalfToInterleaved(
    const std::byte *in, std::byte *out, std::int64_t heads, std::int64_t headDim, std::size_t rowBytes);

} // namespace blockscope
