#pragma once

// Pruned checkpoints that the tools people deploy with load (issue 13): a configuration of a
// model (a unit mask) written as a Hugging Face folder that a stock LlamaForCausalLM /
// MistralForCausalLM / Qwen2ForCausalLM computes exactly as Blockscope's masked forward does.

#include "model/unitmask.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace blockscope {

class ModelHandle;
struct Experiment;

// A configuration picked from an experiment file, with what an export records about it.
struct ExportSelection
{
    std::string modelPath; // the checkpoint the run searched (or the override)
    UnitMask mask;
    std::string recordJson; // experiment, run, method, step or point, mask, protocol, hashes
    std::string description; // "run-0001 (sleb), step 2: block 14, block 17"
};
struct ExportPick
{
    std::string runId; // empty: the file's only run
    std::optional<int> step; // a trace step's index; neither step nor point: the run's last step
    std::string point; // a PPA point's label
    std::optional<UnitMask> whatIf; // any configuration of the run's model instead
    std::string modelOverride; // the checkpoint, when it moved since the run
    bool checkModelHash = true; // refuse a checkpoint whose content differs from the run's
};
// Throws UsageError naming what does not exist (the run ids, step indices or point labels the
// file has are listed) or a checkpoint whose content hash is not the run's.
ExportSelection selectForExport(
    const std::string &experimentPath, const Experiment &experiment, const ExportPick &pick);

struct HfExportOptions
{
    // "" keeps each tensor's dtype (quantised tensors are written dequantised, as float32);
    // "float32", "float16" or "bfloat16" converts every tensor.
    std::string dtype;
    bool force = false; // replace a folder that is not empty
    // Above this many bytes of weights, shards of at most this size and model.safetensors.index.json.
    std::uint64_t shardBytes = 5'000'000'000ull;
    // What the export records about where the configuration came from (experiment, run, step,
    // protocol, ...): a JSON object that blockscope.json holds under "source"; "" for none.
    std::string recordJson;
};

struct HfExportResult
{
    std::string folder;
    int keptBlocks = 0;
    std::vector<int> blockMap; // the source block of each exported layer
    std::vector<std::string> files; // names inside the folder
    std::uint64_t weightBytes = 0;
    std::vector<std::string> zeroed; // output projections zeroed for removed sublayers of kept blocks
    std::vector<std::string> notes; // what a user should know about the export
};

// Writes `model` under `mask` into `folder`: config.json, model.safetensors (or shards and their
// index), generation_config.json, the tokenizer files and blockscope.json. Removed blocks are
// physically removed (num_hidden_layers reduced, the kept layers renumbered); a removed attention
// or MLP inside a kept block has its output projection (and bias) zeroed, which adds exactly
// nothing to the residual stream, as skipping it does. q/k rows stored interleaved are permuted
// to rotate_half order.
//
// Everything is written into a hidden folder beside `folder` and moved into place at the end, so
// a failure (a full disk, a bad tensor) leaves no half-written export, and an existing folder is
// only replaced once the new one is complete. Throws UsageError for a folder that is not empty
// (without `force`) or is a file, a mask of the wrong length, an unknown dtype, or a model whose
// heads are unknown; std::runtime_error naming the file for I/O failures.
HfExportResult exportHuggingFace(const std::shared_ptr<const ModelHandle> &model, const UnitMask &mask,
    const std::string &folder, const HfExportOptions &options = {});

} // namespace blockscope
