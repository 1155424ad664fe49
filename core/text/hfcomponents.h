#pragma once

#include "common/formaterror.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace blockscope {

// The stages of a Hugging Face tokenizer.json pipeline (formats.md §8). Each factory reads one
// component object and throws FormatError naming the file and the component for an unsupported
// type or a malformed field; null JSON gives no component.

// A split of the input: either text still to tokenize, or an added token already matched.
struct HfPiece
{
    std::string text;
    std::int32_t token = -1;
    bool atStart = false; // starts at offset 0 of the original input (Metaspace "first")
};

class HfNormalizer
{
public:
    virtual ~HfNormalizer() = default;
    virtual void apply(std::string &text) const = 0;
};
std::unique_ptr<HfNormalizer> makeHfNormalizer(const nlohmann::json &j, const std::string &file);

// Splits every piece that has no token yet; empty pieces are dropped, as Hugging Face does.
class HfPreTokenizer
{
public:
    virtual ~HfPreTokenizer() = default;
    virtual void split(std::vector<HfPiece> &pieces) const = 0;
};
std::unique_ptr<HfPreTokenizer> makeHfPreTokenizer(const nlohmann::json &j, const std::string &file);

// Rewrites the token strings of a decode, in place (Hugging Face's decode_chain).
class HfDecoder
{
public:
    virtual ~HfDecoder() = default;
    virtual void decode(std::vector<std::string> &tokens) const = 0;
};
std::unique_ptr<HfDecoder> makeHfDecoder(const nlohmann::json &j, const std::string &file);

// What the post-processor adds to a single sequence: the special-token ids before and after it.
struct HfPostProcessor
{
    std::vector<std::int32_t> prefix;
    std::vector<std::int32_t> suffix;
};
HfPostProcessor readHfPostProcessor(const nlohmann::json &j, const std::string &file);

// Helpers shared by the component readers.
namespace hfjson {
const nlohmann::json &member(
    const nlohmann::json &obj, const char *key, const std::string &file, const std::string &where);
std::string string(const nlohmann::json &obj, const char *key, const std::string &file, const std::string &where);
bool boolean(
    const nlohmann::json &obj, const char *key, bool fallback, const std::string &file, const std::string &where);
std::string type(const nlohmann::json &obj, const std::string &file, const std::string &where);
[[noreturn]] void unsupported(const std::string &file, const std::string &where, const std::string &type);
// An integer in 0..INT32_MAX (documents built in code hold signed numbers, parsed ones unsigned).
bool isIndex(const nlohmann::json &v);
// A Replace/Split "pattern": {"String": s} or {"Regex": r}; returns the text and whether it is a regex.
std::pair<std::string, bool> pattern(const nlohmann::json &obj, const std::string &file, const std::string &where);
// The parts of a "Sequence" component: each element of the array obj[key] through `make` (the
// component's own factory), null ones skipped; FormatError when it is not an array.
template<class Part, class Make>
std::vector<std::unique_ptr<Part>> sequence(
    const nlohmann::json &obj, const char *key, const std::string &file, const std::string &where, Make make)
{
    const auto &list = member(obj, key, file, where);
    if (!list.is_array())
        throw FormatError(file, FormatError::NoOffset, where, std::string("\"") + key + "\" must be an array");
    std::vector<std::unique_ptr<Part>> parts;
    for (const auto &element : list)
        if (auto part = make(element, file))
            parts.push_back(std::move(part));
    return parts;
}
// A "Sequence" component of type Seq (with its `parts`) from obj[key].
template<class Seq, class Make>
std::unique_ptr<Seq> makeSequence(
    const nlohmann::json &obj, const char *key, const std::string &file, const std::string &where, Make make)
{
    auto s = std::make_unique<Seq>();
    s->parts = sequence<typename decltype(s->parts)::value_type::element_type>(obj, key, file, where, make);
    return s;
}
} // namespace hfjson

} // namespace blockscope
