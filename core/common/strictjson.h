#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace blockscope {

struct StrictJsonOptions
{
    bool allowBom = false; // config.json: a leading BOM is skipped (with a warning by the caller)
    int maxDepth = 64; // objects and arrays nested at most this deep
    std::uint64_t maxStringBytes = 1024 * 1024; // any key or string value
    std::uint64_t baseOffset = 0; // where the text starts in its file, for error offsets
};

// Parses JSON the way a checkpoint loader must: valid UTF-8 only, no duplicate keys, nesting
// bounded, no NaN/Infinity literals (nor numbers that overflow to them), keys and strings capped. Errors are
// FormatErrors naming `file` and `what`.
nlohmann::json parseStrictJson(std::string_view text, const std::string &file, std::string_view what,
    const StrictJsonOptions &options = {}, bool *hadBom = nullptr);

} // namespace blockscope
