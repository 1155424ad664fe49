#include "strictjson.h"

#include "formaterror.h"
#include "utf8.h"

#include <cmath>
#include <set>
#include <vector>

namespace blockscope {

nlohmann::json parseStrictJson(std::string_view text, const std::string &file, std::string_view what,
    const StrictJsonOptions &options, bool *hadBom)
{
    std::uint64_t base = options.baseOffset;
    const std::string_view bom = "\xEF\xBB\xBF";
    if (hadBom)
        *hadBom = false;
    if (text.substr(0, 3) == bom) {
        if (!options.allowBom)
            throw FormatError(
                file, base, std::string(what), "starts with a UTF-8 byte-order mark, which is not allowed here");
        text.remove_prefix(3);
        base += 3;
        if (hadBom)
            *hadBom = true;
    }
    if (auto bad = firstInvalidUtf8(text))
        throw FormatError(file, base + *bad, std::string(what), "is not valid UTF-8");

    // One key set per open object, so duplicates are found at any depth.
    std::vector<std::set<std::string>> keys;
    std::string problem;
    auto reject = [&](std::string why) {
        problem = std::move(why);
        throw std::runtime_error("rejected");
    };
    auto callback = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json &parsed) {
        using E = nlohmann::json::parse_event_t;
        // nlohmann reports the depth outside the container being opened (0 for the outermost),
        // so the container itself sits at depth + 1.
        if ((event == E::object_start || event == E::array_start) && depth + 1 > options.maxDepth)
            reject("nests deeper than " + std::to_string(options.maxDepth) + " levels");
        switch (event) {
        case E::object_start: keys.emplace_back(); break;
        case E::object_end:
            if (!keys.empty())
                keys.pop_back();
            break;
        case E::key: {
            const std::string &k = parsed.get_ref<const std::string &>();
            if (k.size() > options.maxStringBytes)
                reject("has a key of " + std::to_string(k.size()) + " bytes, above the cap of "
                    + std::to_string(options.maxStringBytes));
            if (!keys.empty() && !keys.back().insert(k).second)
                reject("has the key \"" + k + "\" twice");
            break;
        }
        case E::value:
            if (parsed.is_string() && parsed.get_ref<const std::string &>().size() > options.maxStringBytes)
                reject("has a string of " + std::to_string(parsed.get_ref<const std::string &>().size())
                    + " bytes, above the cap of " + std::to_string(options.maxStringBytes));
            // A literal like 1e999 parses to infinity; the NaN/Infinity ban must cover it too.
            if (parsed.is_number_float() && !std::isfinite(parsed.get<double>()))
                reject("has a number out of the range of a double");
            break;
        default: break;
        }
        return true;
    };

    try {
        return nlohmann::json::parse(text.begin(), text.end(), callback, true, false);
    } catch (const nlohmann::json::parse_error &e) {
        throw FormatError(file, base + (e.byte > 0 ? e.byte - 1 : 0), std::string(what),
            std::string("is not valid JSON: ") + e.what());
    } catch (const nlohmann::json::exception &e) {
        throw FormatError(file, base, std::string(what), std::string("is not valid JSON: ") + e.what());
    } catch (const std::runtime_error &) {
        if (!problem.empty())
            throw FormatError(file, base, std::string(what), problem);
        throw;
    }
}

} // namespace blockscope
