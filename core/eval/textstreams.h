#pragma once

#include "protocol.h"

#include <cstdint>
#include <string>
#include <vector>

namespace blockscope {

class Tokenizer;

// Which part of a text to use. Every text splits the same way into a calibration pool (its first
// quarter) and an evaluation pool (its second half), so that nothing a search or a gate trainer
// calibrated on is scored again as held out; the third quarter is left between them.
// - tiny-ts on a plain text: paragraphs [0, n/4) and [n/2, n) (pruning.md §2);
// - a JSONL file of n >= 4 documents: documents [0, n/4) and [n/2, n), whole documents each;
// - anything else (WikiText raw files, plain texts under other protocols, JSONL files of fewer
//   than four documents): tokens [0, n/4) and [n/2, n) of the one reconstructed stream.
// All: the whole text.
enum class TextPool { Calibration, Evaluation, All };
const char *textPoolName(TextPool pool); // "calibration", "evaluation", "all"

// A text file turned into one token stream (no BOS in it) as the protocol reconstructs it:
// tiny-ts encodes normalised paragraphs one by one and concatenates them; WikiText raw files join
// their rows with "\n\n"; JSONL files join their "text" fields with "\n\n"; anything else is
// encoded whole. Fills in the protocol's textSource, reconstruction, pool and tokenizer.
struct TextStream
{
    std::vector<std::int32_t> ids;
    Protocol protocol;
};
TextStream textStreamFor(
    const std::string &path, const Tokenizer &tokenizer, Protocol protocol, TextPool pool = TextPool::Evaluation);

// The pools a job that calibrates on one text and scores on another takes from each: the two pools
// of one text when both are the same file (or no evaluation text is given), every text whole when
// they are two files, except under tiny-ts, whose pools pruning.md §2 defines for any text.
struct TextPools
{
    TextPool calibration = TextPool::Calibration;
    TextPool evaluation = TextPool::Evaluation;
};
TextPools poolsFor(const Protocol &protocol, const std::string &calibrationPath, const std::string &evaluationPath);

// The pool a text evaluated on its own uses (the evaluate command): tiny-ts's evaluation pool
// (pruning.md §2), any other text whole, as the published perplexities are taken.
TextPool standalonePool(const Protocol &protocol);

} // namespace blockscope
