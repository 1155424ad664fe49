// llama2.c tokenizer.bin (formats.md §2). The vocabulary size comes from the model, not the file:
// try the stories260K size and one derived from the input, so short and long files both reach
// the record loop.
#include "common/formaterror.h"
#include "scratchfile.h"
#include "text/llama2cvocab.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace blockscope;
    const std::string path = fuzz::writeScratch("tokenizer.bin", data, size);
    for (std::int64_t vocab : {std::int64_t(512), static_cast<std::int64_t>(size % 1031)}) {
        try {
            Llama2cVocab::load(path, vocab);
        } catch (const FormatError &) {
        } catch (const UsageError &) {
        }
    }
    return 0;
}
