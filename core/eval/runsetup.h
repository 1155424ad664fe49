#pragma once

// What every job that runs a model on a text sets up the same way (evaluation, pruning, what-if).
// LibTorch side only: it names DecoderOptions.

#include "model/decoder.h"
#include "protocol.h"
#include "textstreams.h"
#include "windows.h"

#include <cstdint>
#include <string>

namespace blockscope {

class Tokenizer;

// The preset with the user's context / stride, capped by the model's context when the preset's
// T does not fit it. Throws UsageError for an unknown preset or a context beyond the model's.
Protocol resolveProtocol(
    const std::string &preset, std::int64_t context, std::int64_t stride, std::int64_t modelContext);

// "cpu"/"cuda" and "float32"/"bfloat16"/"float16"; throws UsageError otherwise or when CUDA is
// asked for without a device.
DecoderOptions decoderOptionsFor(const std::string &device, const std::string &dtype);

// The text's windows under the protocol (first `maxWindows`, 0 = all). Throws UsageError naming
// the file when it gives no window.
WindowSet windowsForText(
    const std::string &path, const Tokenizer &tokenizer, Protocol protocol, TextPool pool, std::int64_t maxWindows);

} // namespace blockscope
