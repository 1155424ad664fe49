#pragma once

#include "model/dtype.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace blockscope {

struct SafetensorsEntry
{
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    std::span<const std::byte> data;
};

// Writes a safetensors file as formats.md §5 prescribes: header padded with spaces to a multiple
// of 8, "__metadata__" {"format": "pt"} plus `metadata`, tensors sorted by descending element size
// then name, contiguous. Writes to a temporary file and renames, so a crash never leaves a
// half-written file under the final name. Throws std::runtime_error on I/O failure.
void writeSafetensors(const std::string &path, std::vector<SafetensorsEntry> entries,
    const std::map<std::string, std::string> &metadata = {});

} // namespace blockscope
