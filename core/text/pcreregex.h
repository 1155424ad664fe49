#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace blockscope {

// A compiled PCRE2 pattern (8-bit, UTF + UCP, so \p{L}, \s and case folding follow Unicode as in
// the Oniguruma regexes the Hugging Face tokenizers use). Matching runs under a match limit: a
// pathological pattern ends in a FormatError instead of a hang.
class PcreRegex
{
public:
    // Throws FormatError naming `file` and `field` when the pattern does not compile.
    PcreRegex(const std::string &pattern, const std::string &file, std::string field);
    ~PcreRegex();
    PcreRegex(const PcreRegex &) = delete;
    PcreRegex &operator=(const PcreRegex &) = delete;

    // Calls `onMatch(start, end)` for each non-overlapping match in `subject`, left to right; an
    // empty match advances by one code point. `subject` must be valid UTF-8 (not rechecked).
    void forEachMatch(std::string_view subject, const std::function<void(std::size_t, std::size_t)> &onMatch) const;

    const std::string &pattern() const { return m_pattern; }

    static constexpr std::uint32_t MatchLimit = 10'000'000;

private:
    struct Impl;
    std::unique_ptr<Impl> m;
    std::string m_pattern;
    std::string m_file;
    std::string m_field;
};

} // namespace blockscope
