#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace blockscope {

// A whole UTF-8 text file. FormatError naming the file when it is empty, not UTF-8 (with the
// line), or larger than `maxBytes`.
std::string readTextFile(const std::string &path, std::uint64_t maxBytes = 1ull << 31);

// tiny-ts reconstruction (pruning.md §2): split on "\n\n", strip each paragraph, collapse runs of
// spaces to one, drop empty paragraphs.
std::vector<std::string> tinyTsParagraphs(std::string_view text);

// WikiText-2 rows from the raw file: each line with its "\n" is a row, a line of only " \n" is an
// empty row; rows joined with "\n\n" give the Hugging Face datasets string.
std::string wikitextJoinedRows(std::string_view raw);

// JSON lines with a string field "text" (formats.md §9). Lines that are not objects or lack
// "text" are skipped and counted; a line over 64 MiB or with invalid UTF-8 is an error naming
// the line number.
struct JsonlTexts
{
    std::vector<std::string> texts;
    std::int64_t skipped = 0;
};
JsonlTexts readJsonlTexts(const std::string &path);

} // namespace blockscope
