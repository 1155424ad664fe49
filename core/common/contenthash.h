#pragma once

#include <cstdint>
#include <string>

namespace blockscope {

// A content hash that identifies a checkpoint or a text file in an experiment file:
// "sha256:<hex>" over the bytes of a file, or over the sorted (relative name, bytes) of every
// regular file in a folder. Files over 1 GiB in total are sampled (size, first and last 16 MiB of
// each file) and the result says so: "sha256-sampled:<hex>". Throws UsageError naming the path
// when it cannot be read.
std::string contentHash(const std::string &path);

// SHA-256 of a byte string, lowercase hex (exposed for tests against known vectors).
std::string sha256Hex(const void *data, std::size_t size);

} // namespace blockscope
