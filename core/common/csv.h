#pragma once

// The one CSV dialect every export writes (RFC 4180): fields quoted when they hold a comma, a
// quote or a line break (or always, where a column holds lists), quotes doubled, "\n" between
// rows, NaN as an empty field and numbers in their shortest exact form.

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace blockscope::csv {

std::string field(std::string_view text, bool alwaysQuote = false);
// Shortest text that reads back to the same double; empty for NaN (and for infinities).
std::string number(double value);
// Up to `digits` significant digits (%.*g); empty for NaN.
std::string number(double value, int digits);

// A table built row by row; text() is the file's contents.
class Writer
{
public:
    explicit Writer(const std::vector<std::string> &header);
    // Fields as they are (already field()- or number()-formatted).
    void row(const std::vector<std::string> &fields);
    const std::string &text() const { return m_text; }

private:
    std::size_t m_columns;
    std::string m_text;
};

} // namespace blockscope::csv
