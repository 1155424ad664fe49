#include "llama2cvocab.h"

#include "common/bytecursor.h"
#include "common/formaterror.h"
#include "common/mappedfile.h"

#include <cmath>

namespace blockscope {

Llama2cVocab Llama2cVocab::load(const std::string &path, std::int64_t vocabSize)
{
    auto file = MappedFile::open(path);
    ByteCursor cur(file->bytes(), path);
    Llama2cVocab v;
    v.maxTokenLength = cur.read<std::int32_t>("max_token_length");
    if (v.maxTokenLength <= 0 || v.maxTokenLength > 1024)
        throw FormatError(
            path, 0, "max_token_length", "value " + std::to_string(v.maxTokenLength) + " is outside 1..1024");
    // Each record needs at least 8 bytes: do not reserve for a vocabulary the file cannot hold.
    if (vocabSize < 0 || static_cast<std::uint64_t>(vocabSize) > cur.remaining() / 8)
        throw FormatError(path, 4, "records",
            "the model's vocabulary of " + std::to_string(vocabSize) + " tokens cannot fit in this "
                + std::to_string(file->size()) + "-byte file");
    v.pieces.reserve(vocabSize);
    v.scores.reserve(vocabSize);
    for (std::int64_t i = 0; i < vocabSize; ++i) {
        const std::string field = "token " + std::to_string(i);
        const auto score = cur.read<float>(field);
        if (!std::isfinite(score))
            throw FormatError(path, cur.offset() - 4, field, "score is not finite");
        const auto len = cur.read<std::int32_t>(field);
        if (len < 0 || len > v.maxTokenLength)
            throw FormatError(path, cur.offset() - 4, field,
                "length " + std::to_string(len) + " is outside 0.." + std::to_string(v.maxTokenLength));
        v.pieces.emplace_back(cur.readBytes(static_cast<std::uint64_t>(len), field));
        v.scores.push_back(score);
    }
    if (cur.remaining() > 0)
        v.warnings.push_back(path + ": " + std::to_string(cur.remaining()) + " trailing bytes after "
            + std::to_string(vocabSize) + " tokens");
    return v;
}

} // namespace blockscope
