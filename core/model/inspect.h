#pragma once

#include "tensorstats.h"

#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace blockscope {

class ModelHandle;
struct TensorInfo;

// The text and JSON views of an opened checkpoint shared by the CLI and the app's details pane.
std::string architectureSummary(const ModelHandle &model);
std::string tensorTable(const ModelHandle &model, const std::map<std::string, TensorStats> *stats = nullptr);
nlohmann::json inspectJson(const ModelHandle &model, const std::map<std::string, TensorStats> *stats = nullptr);

// Storage bits per weight of a tensor (8 · bytes / elements: 5 for Q4_1, 32 for F32).
double bitsPerWeight(const TensorInfo &t);
// "F32 61 tensors, 66.0K params at 32 bits; Q4_1 210 tensors, ..." with the overall bits per weight.
std::string formatMix(const ModelHandle &model);

std::string humanBytes(std::uint64_t bytes);
std::string humanCount(std::uint64_t n);
std::string shapeString(const std::vector<std::int64_t> &shape);

} // namespace blockscope
