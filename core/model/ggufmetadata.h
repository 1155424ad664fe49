#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace blockscope {

enum class GgufType : std::uint32_t { U8, I8, U16, I16, U32, I32, F32, Bool, String, Array, U64, I64, F64 };

struct GgufValue
{
    GgufType type = GgufType::U8;
    std::uint64_t u = 0;
    std::int64_t i = 0;
    double f = 0;
    std::string s;
    GgufType arrayType = GgufType::U8;
    std::vector<GgufValue> array;

    bool isUnsigned() const
    {
        return type == GgufType::U8 || type == GgufType::U16 || type == GgufType::U32 || type == GgufType::U64;
    }
    bool isSigned() const
    {
        return type == GgufType::I8 || type == GgufType::I16 || type == GgufType::I32 || type == GgufType::I64;
    }
    std::optional<std::int64_t> asInt() const
    {
        if (isUnsigned() && u <= static_cast<std::uint64_t>(INT64_MAX))
            return static_cast<std::int64_t>(u);
        if (isSigned())
            return i;
        return std::nullopt;
    }
    std::optional<double> asFloat() const
    {
        if (type == GgufType::F32 || type == GgufType::F64)
            return f;
        return std::nullopt;
    }
};

struct GgufMetadata
{
    std::map<std::string, GgufValue> values;
    const GgufValue *find(const std::string &key) const
    {
        auto it = values.find(key);
        return it == values.end() ? nullptr : &it->second;
    }
};

} // namespace blockscope
