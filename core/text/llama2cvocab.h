#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace blockscope {

// The records of a llama2.c tokenizer.bin (formats.md §2). The vocabulary size is not stored in
// the file; it comes from the model.
struct Llama2cVocab
{
    std::int32_t maxTokenLength = 0;
    std::vector<std::string> pieces;
    std::vector<float> scores;
    std::vector<std::string> warnings;

    static Llama2cVocab load(const std::string &path, std::int64_t vocabSize);
};

} // namespace blockscope
