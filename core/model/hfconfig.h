#pragma once

#include "architecture.h"

#include <string>
#include <vector>

namespace blockscope {

// Reads a Hugging Face config.json for Llama, Mistral or Qwen2 (formats.md §6) with strict types.
// Warnings (a BOM, custom code ignored) are appended to `warnings`.
Architecture readHfConfig(const std::string &path, std::vector<std::string> &warnings);

} // namespace blockscope
