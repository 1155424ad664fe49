// GGUF reader (formats.md §4). A file that opens must also survive reading every value, which is
// where a byte size that disagrees with a tensor's shape would read out of bounds.
#include "common/formaterror.h"
#include "model/checkpointreaders.h"
#include "model/modelhandle.h"
#include "model/tensorstats.h"
#include "scratchfile.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace blockscope;
    const std::string path = fuzz::writeScratch("model.gguf", data, size);
    try {
        auto m = readGguf(path);
        for (const auto &t : m->tensors())
            if (t.loadable && dtypeIsFloatReadable(t.dtype))
                computeTensorStats(*m, t);
    } catch (const FormatError &) {
    } catch (const UsageError &) {
    }
    return 0;
}
