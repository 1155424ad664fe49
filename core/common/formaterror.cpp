#include "formaterror.h"

namespace blockscope {

namespace {
std::string compose(const std::string &file, std::uint64_t offset, const std::string &field, const std::string &message)
{
    std::string s = file;
    if (offset != FormatError::NoOffset)
        s += " (byte " + std::to_string(offset) + ")";
    s += ": ";
    if (!field.empty())
        s += field + ": ";
    s += message;
    return s;
}
} // namespace

FormatError::FormatError(std::string file, std::uint64_t byteOffset, std::string field, std::string message)
    : std::runtime_error(compose(file, byteOffset, field, message))
    , m_file(std::move(file))
    , m_byteOffset(byteOffset)
    , m_field(std::move(field))
    , m_message(std::move(message))
{
}

} // namespace blockscope
