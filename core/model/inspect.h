#pragma once

#include "tensorstats.h"

#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace blockscope {

class ModelHandle;

// The text and JSON views of an opened checkpoint shared by the CLI and the app's details pane.
std::string architectureSummary(const ModelHandle &model);
std::string tensorTable(const ModelHandle &model, const std::map<std::string, TensorStats> *stats = nullptr);
nlohmann::json inspectJson(const ModelHandle &model, const std::map<std::string, TensorStats> *stats = nullptr);

std::string humanBytes(std::uint64_t bytes);
std::string humanCount(std::uint64_t n);
std::string shapeString(const std::vector<std::int64_t> &shape);

} // namespace blockscope
