#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace blockscope {

// A problem with the contents of a file the user gave us: it names the file, the byte
// offset (when one applies) and the field or tensor at fault, so the message can be shown
// as it is. The first problem found wins; parsers never continue past one.
class FormatError : public std::runtime_error
{
public:
    static constexpr std::uint64_t NoOffset = ~std::uint64_t(0);

    FormatError(std::string file, std::uint64_t byteOffset, std::string field, std::string message);

    const std::string &file() const { return m_file; }
    std::uint64_t byteOffset() const { return m_byteOffset; }
    const std::string &field() const { return m_field; }
    const std::string &message() const { return m_message; }

private:
    std::string m_file;
    std::uint64_t m_byteOffset;
    std::string m_field;
    std::string m_message;
};

// The user's request itself is wrong (a missing path, an unknown option), not the file.
class UsageError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

// A file could not be written (a full disk, a file-size limit, no permission): the message names
// the file and the system's reason.
class IoError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

} // namespace blockscope
