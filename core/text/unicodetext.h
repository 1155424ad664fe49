#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace blockscope {

// Code-point level helpers shared by the tokenizers. Character classes and normalisation come
// from ICU so that they follow the same Unicode tables as the reference tokenizers, not ours.

struct Utf8Step
{
    char32_t cp = 0; // the code point, or U+FFFD when !valid
    std::uint32_t len = 1; // bytes consumed: the sequence, or its maximal invalid subpart
    bool valid = false;
};

// Decodes the sequence at `pos`. An invalid sequence consumes its "maximal subpart" (Unicode
// §3.9, the policy Python's errors="replace" follows), so replacing each step with U+FFFD
// reproduces bytes.decode("utf-8", "replace") exactly.
Utf8Step decodeUtf8(std::string_view s, std::size_t pos);

void appendUtf8(std::string &out, char32_t cp);

// `s` with every maximal invalid subpart replaced by U+FFFD.
std::string replaceInvalidUtf8(std::string_view s);

// The value of a byte token "<0xHH>" (two hex digits), else nullopt.
std::optional<unsigned char> parseByteToken(std::string_view piece);
std::string byteTokenName(unsigned char byte);

// Rust's char::is_whitespace (the White_Space property) and the word characters the Hugging Face
// added-token matcher uses (alphabetic, numeric or '_').
bool isUnicodeWhitespace(char32_t cp);
bool isWordCharacter(char32_t cp);

enum class NormalForm { Nfc, Nfd, Nfkc, Nfkd };
// Throws FormatError naming `file` if ICU cannot load its data.
std::string normalizeUnicode(std::string_view s, NormalForm form, const std::string &file);
std::string lowercaseUnicode(std::string_view s);

} // namespace blockscope
