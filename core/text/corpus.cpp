#include "corpus.h"

#include "common/formaterror.h"
#include "common/mappedfile.h"
#include "common/utf8.h"

#include <nlohmann/json.hpp>

namespace blockscope {

namespace {
std::uint64_t lineOf(std::string_view text, std::size_t byte)
{
    std::uint64_t line = 1;
    for (std::size_t i = 0; i < byte && i < text.size(); ++i)
        line += text[i] == '\n';
    return line;
}
} // namespace

std::string readTextFile(const std::string &path, std::uint64_t maxBytes)
{
    auto file = MappedFile::open(path);
    if (file->size() == 0)
        throw FormatError(path, FormatError::NoOffset, "text", "the file is empty");
    if (file->size() > maxBytes)
        throw FormatError(
            path, FormatError::NoOffset, "text", "the file is larger than " + std::to_string(maxBytes) + " bytes");
    std::string_view text(reinterpret_cast<const char *>(file->data()), file->size());
    if (auto bad = firstInvalidUtf8(text))
        throw FormatError(path, *bad, "line " + std::to_string(lineOf(text, *bad)), "is not valid UTF-8 text");
    return std::string(text);
}

std::vector<std::string> tinyTsParagraphs(std::string_view text)
{
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t end = text.find("\n\n", pos);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view p = text.substr(pos, end - pos);
        // strip (Python's str.strip: all whitespace)
        auto isWs = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; };
        while (!p.empty() && isWs(p.front()))
            p.remove_prefix(1);
        while (!p.empty() && isWs(p.back()))
            p.remove_suffix(1);
        std::string collapsed;
        collapsed.reserve(p.size());
        for (char c : p) {
            if (c == ' ' && !collapsed.empty() && collapsed.back() == ' ')
                continue;
            collapsed.push_back(c);
        }
        if (!collapsed.empty())
            out.push_back(std::move(collapsed));
        if (end == text.size())
            break;
        pos = end + 2;
    }
    return out;
}

std::string wikitextJoinedRows(std::string_view raw)
{
    std::string out;
    std::size_t pos = 0;
    bool first = true;
    while (pos < raw.size()) {
        std::size_t nl = raw.find('\n', pos);
        std::size_t end = nl == std::string_view::npos ? raw.size() : nl + 1;
        std::string_view row = raw.substr(pos, end - pos);
        if (row == " \n")
            row = {};
        if (!first)
            out += "\n\n";
        out += row;
        first = false;
        pos = end;
    }
    return out;
}

JsonlTexts readJsonlTexts(const std::string &path)
{
    auto file = MappedFile::open(path);
    if (file->size() == 0)
        throw FormatError(path, FormatError::NoOffset, "text", "the file is empty");
    std::string_view all(reinterpret_cast<const char *>(file->data()), file->size());
    JsonlTexts out;
    std::size_t pos = 0;
    std::uint64_t lineNo = 0;
    while (pos < all.size()) {
        ++lineNo;
        std::size_t nl = all.find('\n', pos);
        std::size_t end = nl == std::string_view::npos ? all.size() : nl;
        std::string_view line = all.substr(pos, end - pos);
        const std::string field = "line " + std::to_string(lineNo);
        if (line.size() > (64ull << 20))
            throw FormatError(path, pos, field, "is longer than 64 MiB");
        if (auto bad = firstInvalidUtf8(line))
            throw FormatError(path, pos + *bad, field, "is not valid UTF-8");
        pos = end + 1;
        if (line.empty() || line == "\r")
            continue;
        nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.contains("text") || !j["text"].is_string()) {
            ++out.skipped;
            continue;
        }
        out.texts.push_back(j["text"].get<std::string>());
    }
    if (out.texts.empty())
        throw FormatError(
            path, FormatError::NoOffset, "text", "no line holds a JSON object with a string \"text\" field");
    return out;
}

} // namespace blockscope
