#include "unicodetext.h"

#include "common/formaterror.h"

#include <unicode/bytestream.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

namespace blockscope {

Utf8Step decodeUtf8(std::string_view s, std::size_t pos)
{
    const auto *p = reinterpret_cast<const unsigned char *>(s.data()) + pos;
    const std::size_t n = s.size() - pos;
    const unsigned char c = p[0];
    if (c < 0x80)
        return {c, 1, true};
    // Lead byte: sequence length and the allowed range of the first continuation byte (Unicode
    // Table 3-7); the later continuation bytes are always 80..BF.
    int len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    char32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else {
        return {0xFFFD, 1, false};
    }
    for (int k = 1; k < len; ++k) {
        if (static_cast<std::size_t>(k) >= n)
            return {0xFFFD, static_cast<std::uint32_t>(k), false};
        const unsigned char b = p[k];
        const unsigned char l = k == 1 ? lo : 0x80;
        const unsigned char h = k == 1 ? hi : 0xBF;
        if (b < l || b > h)
            return {0xFFFD, static_cast<std::uint32_t>(k), false};
        cp = (cp << 6) | (b & 0x3F);
    }
    return {cp, static_cast<std::uint32_t>(len), true};
}

void appendUtf8(std::string &out, char32_t cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::string replaceInvalidUtf8(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const Utf8Step st = decodeUtf8(s, i);
        if (st.valid)
            out.append(s.substr(i, st.len));
        else
            appendUtf8(out, 0xFFFD);
        i += st.len;
    }
    return out;
}

std::optional<unsigned char> parseByteToken(std::string_view p)
{
    if (p.size() != 6 || p.substr(0, 3) != "<0x" || p[5] != '>')
        return std::nullopt;
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        return -1;
    };
    const int hi = hex(p[3]), lo = hex(p[4]);
    if (hi < 0 || lo < 0)
        return std::nullopt;
    return static_cast<unsigned char>(hi * 16 + lo);
}

std::string byteTokenName(unsigned char byte)
{
    static const char digits[] = "0123456789ABCDEF";
    return std::string("<0x") + digits[byte >> 4] + digits[byte & 15] + '>';
}

bool isUnicodeWhitespace(char32_t cp)
{
    return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_WHITE_SPACE);
}

bool isWordCharacter(char32_t cp)
{
    if (cp == U'_')
        return true;
    const auto c = static_cast<UChar32>(cp);
    if (u_hasBinaryProperty(c, UCHAR_ALPHABETIC))
        return true;
    const auto type = u_charType(c);
    return type == U_DECIMAL_DIGIT_NUMBER || type == U_LETTER_NUMBER || type == U_OTHER_NUMBER;
}

std::string normalizeUnicode(std::string_view s, NormalForm form, const std::string &file)
{
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2 *n = nullptr;
    switch (form) {
    case NormalForm::Nfc: n = icu::Normalizer2::getNFCInstance(status); break;
    case NormalForm::Nfd: n = icu::Normalizer2::getNFDInstance(status); break;
    case NormalForm::Nfkc: n = icu::Normalizer2::getNFKCInstance(status); break;
    case NormalForm::Nfkd: n = icu::Normalizer2::getNFKDInstance(status); break;
    }
    if (U_FAILURE(status) || !n)
        throw FormatError(file, FormatError::NoOffset, "normalizer",
            std::string("ICU normalizer unavailable: ") + u_errorName(status));
    const icu::StringPiece piece(s.data(), static_cast<std::int32_t>(s.size()));
    // Most text is already normalised; the quick check avoids a copy through UTF-16.
    if (n->isNormalizedUTF8(piece, status) && U_SUCCESS(status))
        return std::string(s);
    status = U_ZERO_ERROR;
    std::string out;
    icu::StringByteSink<std::string> sink(&out);
    n->normalizeUTF8(0, piece, sink, nullptr, status);
    if (U_FAILURE(status))
        throw FormatError(
            file, FormatError::NoOffset, "normalizer", std::string("ICU normalisation failed: ") + u_errorName(status));
    return out;
}

std::string lowercaseUnicode(std::string_view s)
{
    auto u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<std::int32_t>(s.size())));
    u.toLower(icu::Locale::getRoot());
    std::string out;
    u.toUTF8String(out);
    return out;
}

} // namespace blockscope
