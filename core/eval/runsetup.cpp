#include "runsetup.h"

#include "common/device.h"
#include "common/formaterror.h"
#include "text/tokenizer.h"

namespace blockscope {

Protocol resolveProtocol(
    const std::string &preset, std::int64_t context, std::int64_t stride, std::int64_t modelContext)
{
    Protocol protocol;
    try {
        protocol = protocolPreset(preset);
    } catch (const std::invalid_argument &e) {
        throw UsageError(e.what());
    }
    if (context > 0) {
        if (context > modelContext)
            throw UsageError("context " + std::to_string(context) + " is longer than the model supports ("
                + std::to_string(modelContext) + " tokens)");
        protocol.context = context;
        if (protocol.formula != PplFormula::F4Strided)
            protocol.stride = context;
    } else if (protocol.context > modelContext) {
        protocol.context = modelContext; // the preset's T does not fit this model
        if (protocol.formula != PplFormula::F4Strided)
            protocol.stride = protocol.context;
    }
    if (stride > 0)
        protocol.stride = stride;
    if (protocol.stride > protocol.context)
        protocol.stride = protocol.context;
    return protocol;
}

DecoderOptions decoderOptionsFor(const std::string &device, const std::string &dtype)
{
    DecoderOptions options;
    if (dtype == "float32")
        options.dtype = c10::kFloat;
    else if (dtype == "bfloat16")
        options.dtype = c10::kBFloat16;
    else if (dtype == "float16")
        options.dtype = c10::kHalf;
    else
        throw UsageError("unknown dtype \"" + dtype + "\" (float32, bfloat16, float16)");
    if (device == "cuda") {
        if (!cudaAvailable())
            throw UsageError("--device cuda was requested, but " + deviceSummary());
        options.device = c10::Device(c10::kCUDA);
    } else if (device != "cpu") {
        throw UsageError("unknown device \"" + device + "\" (cpu, cuda)");
    }
    return options;
}

WindowSet windowsForText(
    const std::string &path, const Tokenizer &tokenizer, Protocol protocol, TextPool pool, std::int64_t maxWindows)
{
    protocol.maxWindows = maxWindows;
    const TextStream stream = textStreamFor(path, tokenizer, protocol, pool);
    try {
        return cutWindows(stream.ids, stream.protocol, tokenizer.bosId());
    } catch (const std::invalid_argument &e) {
        throw UsageError(path + ": " + e.what());
    }
}

} // namespace blockscope
