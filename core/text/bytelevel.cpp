#include "bytelevel.h"

#include "unicodetext.h"

#include <array>

namespace blockscope {

namespace {
struct Tables
{
    std::array<char32_t, 256> toCp{};
    std::array<std::string, 256> toUtf8;
    std::array<std::int16_t, 0x144> fromCp{}; // the map's code points all lie below U+0144

    Tables()
    {
        fromCp.fill(-1);
        char32_t next = 0x100;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            toCp[b] = printable ? static_cast<char32_t>(b) : next++;
            appendUtf8(toUtf8[b], toCp[b]);
            fromCp[toCp[b]] = static_cast<std::int16_t>(b);
        }
    }
};

const Tables &tables()
{
    static const Tables t;
    return t;
}
} // namespace

std::string byteLevelEncode(std::string_view bytes)
{
    const Tables &t = tables();
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes)
        out += t.toUtf8[static_cast<unsigned char>(c)];
    return out;
}

bool byteLevelDecode(std::string_view token, std::string &out)
{
    const Tables &t = tables();
    std::string bytes;
    bytes.reserve(token.size());
    for (std::size_t i = 0; i < token.size();) {
        const Utf8Step st = decodeUtf8(token, i);
        if (!st.valid || st.cp >= t.fromCp.size() || t.fromCp[st.cp] < 0)
            return false;
        bytes += static_cast<char>(t.fromCp[st.cp]);
        i += st.len;
    }
    out += bytes;
    return true;
}

} // namespace blockscope
