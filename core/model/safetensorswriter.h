#pragma once

#include "model/dtype.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
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

// The same with each tensor's bytes produced only when it is written, so a file larger than the
// memory can be written one tensor at a time. `write` must put exactly `bytes` bytes on the
// stream (std::logic_error naming the tensor otherwise).
struct SafetensorsSource
{
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    std::uint64_t bytes = 0;
    std::function<void(std::ostream &)> write;
};
void writeSafetensorsStreamed(const std::string &path, std::vector<SafetensorsSource> sources,
    const std::map<std::string, std::string> &metadata = {});

} // namespace blockscope
