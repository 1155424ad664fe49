#pragma once

#include "formaterror.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace blockscope {

// Bounds-checked little-endian reads over a byte range. Every read past the end throws a
// FormatError that names the file, the offset and the field being read.
class ByteCursor
{
public:
    ByteCursor(std::span<const std::byte> bytes, std::string file)
        : m_bytes(bytes)
        , m_file(std::move(file))
    {
    }

    std::uint64_t offset() const { return m_pos; }
    std::uint64_t size() const { return m_bytes.size(); }
    std::uint64_t remaining() const { return m_bytes.size() - m_pos; }
    const std::string &file() const { return m_file; }

    template<typename T>
    T read(std::string_view field)
    {
        need(sizeof(T), field);
        T v;
        std::memcpy(&v, m_bytes.data() + m_pos, sizeof(T));
        m_pos += sizeof(T);
        return v; // the project builds for little-endian hosts only (checked in CMake)
    }

    std::string_view readBytes(std::uint64_t n, std::string_view field)
    {
        need(n, field);
        std::string_view s(reinterpret_cast<const char *>(m_bytes.data() + m_pos), static_cast<std::size_t>(n));
        m_pos += n;
        return s;
    }

    void skip(std::uint64_t n, std::string_view field)
    {
        need(n, field);
        m_pos += n;
    }

    void seek(std::uint64_t pos, std::string_view field)
    {
        if (pos > m_bytes.size())
            fail(field,
                "offset " + std::to_string(pos) + " is past the end of the file (" + std::to_string(m_bytes.size())
                    + " bytes)");
        m_pos = pos;
    }

    [[noreturn]] void fail(std::string_view field, const std::string &message) const
    {
        throw FormatError(m_file, m_pos, std::string(field), message);
    }

private:
    void need(std::uint64_t n, std::string_view field) const
    {
        if (n > remaining())
            fail(field,
                "needs " + std::to_string(n) + " bytes but only " + std::to_string(remaining())
                    + " remain (file truncated?)");
    }

    std::span<const std::byte> m_bytes;
    std::string m_file;
    std::uint64_t m_pos = 0;
};

} // namespace blockscope
