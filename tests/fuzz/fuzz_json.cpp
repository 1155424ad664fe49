// The strict JSON reader (formats.md rules) in memory, and config.json (formats.md §6) through
// the file reader, on the same input.
#include "common/formaterror.h"
#include "common/strictjson.h"
#include "model/hfconfig.h"
#include "scratchfile.h"

#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace blockscope;
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    try {
        parseStrictJson(text, "input.json", "document");
    } catch (const FormatError &) {
    }
    const std::string path = fuzz::writeScratch("config.json", data, size);
    try {
        std::vector<std::string> warnings;
        readHfConfig(path, warnings);
    } catch (const FormatError &) {
    } catch (const UsageError &) {
    }
    return 0;
}
