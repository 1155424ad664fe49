#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace blockscope::fuzz {

// Fuzz inputs reach the readers through a real file, as checkpoints do in the application:
// the readers take paths and memory-map them, and the size checks at open are part of what is
// fuzzed. Returns `name` inside a folder private to this process (on tmpfs when available),
// holding nothing else, after writing `size` bytes of `data` to it.
std::string writeScratch(const char *name, const std::uint8_t *data, std::size_t size);

} // namespace blockscope::fuzz
