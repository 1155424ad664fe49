// safetensors header and tensor index (formats.md §5), as a bare file with no config.json beside
// it; values are read too, as in fuzz_gguf.
#include "common/formaterror.h"
#include "model/checkpointreaders.h"
#include "model/modelhandle.h"
#include "model/tensorstats.h"
#include "scratchfile.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace blockscope;
    const std::string path = fuzz::writeScratch("model.safetensors", data, size);
    try {
        auto m = readSafetensorsFile(path);
        for (const auto &t : m->tensors())
            if (t.loadable && dtypeIsFloatReadable(t.dtype))
                computeTensorStats(*m, t);
    } catch (const FormatError &) {
    } catch (const UsageError &) {
    }
    return 0;
}
