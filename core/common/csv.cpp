#include "csv.h"

#include "numbertext.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace blockscope::csv {

std::string field(std::string_view text, bool alwaysQuote)
{
    if (!alwaysQuote && text.find_first_of(",\"\r\n") == std::string_view::npos)
        return std::string(text);
    std::string q = "\"";
    for (char c : text) {
        if (c == '"')
            q += '"';
        q += c;
    }
    return q + "\"";
}

std::string number(double value)
{
    if (!std::isfinite(value))
        return {};
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    return std::string(buf, r.ptr);
}

std::string number(double value, int digits)
{
    const std::string format = "%." + std::to_string(digits) + "g";
    return numberText(value, format.c_str());
}

Writer::Writer(const std::vector<std::string> &header)
    : m_columns(header.size())
{
    std::vector<std::string> quoted;
    for (const std::string &h : header)
        quoted.push_back(field(h));
    row(quoted);
}

void Writer::row(const std::vector<std::string> &fields)
{
    if (fields.size() != m_columns)
        throw std::logic_error(
            "CSV row of " + std::to_string(fields.size()) + " fields under a header of " + std::to_string(m_columns));
    for (std::size_t i = 0; i < fields.size(); ++i)
        m_text += (i ? "," : "") + fields[i];
    m_text += "\n";
}

} // namespace blockscope::csv
