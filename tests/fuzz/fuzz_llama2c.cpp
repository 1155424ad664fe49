// llama2.c model .bin (formats.md §1). No tokenizer lies beside the scratch file, so only the
// model header and layout are exercised here; fuzz_llama2ctokenizer covers tokenizer.bin.
#include "common/formaterror.h"
#include "model/checkpointreaders.h"
#include "model/modelhandle.h"
#include "model/tensorstats.h"
#include "scratchfile.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace blockscope;
    const std::string path = fuzz::writeScratch("model.bin", data, size);
    try {
        auto m = readLlama2c(path, {});
        for (const auto &t : m->tensors())
            if (t.loadable && dtypeIsFloatReadable(t.dtype))
                computeTensorStats(*m, t);
    } catch (const FormatError &) {
    } catch (const UsageError &) {
    }
    return 0;
}
