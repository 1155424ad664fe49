#pragma once

#include <string>
#include <string_view>

namespace blockscope {

// GPT-2's byte-to-code-point map (formats.md §8, Family B): printable bytes stand for themselves,
// the other 68 map in order to U+0100, U+0101, ...
std::string byteLevelEncode(std::string_view bytes);

// The inverse for one token; false (and `out` untouched) when a code point is not in the map, so
// the caller can keep the token's own bytes, as the Hugging Face decoder does.
bool byteLevelDecode(std::string_view token, std::string &out);

} // namespace blockscope
