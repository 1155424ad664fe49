#pragma once

#include "protocol.h"

#include <cstdint>
#include <string>
#include <vector>

namespace blockscope {

class Tokenizer;

// Which part of a tiny-ts text to use (pruning.md §2): calibration paragraphs [0, n/4), evaluation
// paragraphs [n/2, n), or all of them.
enum class TextPool { Calibration, Evaluation, All };

// A text file turned into one token stream (no BOS in it) as the protocol reconstructs it:
// tiny-ts encodes normalised paragraphs one by one and concatenates them; WikiText raw files join
// their rows with "\n\n"; JSONL files join their "text" fields with "\n\n"; anything else is
// encoded whole. Fills in the protocol's textSource, reconstruction and tokenizer.
struct TextStream
{
    std::vector<std::int32_t> ids;
    Protocol protocol;
};
TextStream textStreamFor(
    const std::string &path, const Tokenizer &tokenizer, Protocol protocol, TextPool pool = TextPool::Evaluation);

} // namespace blockscope
