#include "llama2ctokenizer.h"

#include "common/formaterror.h"
#include "llama2cvocab.h"
#include "log/logging.h"
#include "unicodetext.h"

#include <filesystem>

namespace blockscope {

Llama2cTokenizer::Llama2cTokenizer(const Llama2cVocab &vocab, std::string path)
    : m_path(std::move(path))
    , m_warnings(vocab.warnings)
{
    if (vocab.pieces.size() < 3)
        throw FormatError(m_path, FormatError::NoOffset, "records",
            "a llama2.c vocabulary needs at least 3 tokens (unk, BOS, EOS), this one has "
                + std::to_string(vocab.pieces.size()));
    m_vocab.pieces = vocab.pieces;
    m_vocab.scores = vocab.scores;
    if (const int dups = m_vocab.index())
        m_warnings.push_back(
            m_path + ": " + std::to_string(dups) + " duplicate token strings; the lowest id is used when encoding");
    // llama2.c maps a byte b without a code-point token to id b + 3 (SentencePiece puts <0x00>..<0xFF>
    // right after unk, BOS and EOS); a smaller vocabulary simply has no byte tokens.
    for (int b = 0; b < 256; ++b)
        m_vocab.byteIds[b] = b + 3 < static_cast<int>(vocab.pieces.size()) ? b + 3 : -1;
    m_vocab.unkId = 0;
    for (const auto &w : m_warnings)
        log::logger(log::Subsystem::Text)->warn("{}", w);
}

std::unique_ptr<Llama2cTokenizer> Llama2cTokenizer::load(const std::string &path, std::int64_t vocabSize)
{
    return std::make_unique<Llama2cTokenizer>(Llama2cVocab::load(path, vocabSize), path);
}

std::vector<std::int32_t> Llama2cTokenizer::encode(std::string_view text) const
{
    if (text.empty())
        return {};
    if (text.size() >= (std::size_t(1) << 31))
        throw FormatError(m_path, FormatError::NoOffset, "text", "texts of 2 GiB or more are not supported");
    // The dummy prefix is a separate token in llama2.c, but it merges like any symbol, so it is the
    // same as encoding the text with a space in front.
    std::string withPrefix;
    withPrefix.reserve(text.size() + 1);
    withPrefix += ' ';
    withPrefix += text;
    return scoredBpeEncode(m_vocab, withPrefix, m_path);
}

std::string Llama2cTokenizer::decode(std::span<const std::int32_t> ids) const
{
    std::string out;
    std::int32_t prev = -1;
    for (const std::int32_t id : ids) {
        if (id < 0 || id >= static_cast<std::int32_t>(m_vocab.pieces.size()))
            throw UsageError("token id " + std::to_string(id) + " is outside the vocabulary of "
                + std::to_string(m_vocab.pieces.size()));
        const std::string &piece = m_vocab.pieces[id];
        const std::int32_t before = prev;
        prev = id;
        if (id <= 2)
            continue;
        std::string_view p = piece;
        if (before == 1 && !p.empty() && p.front() == ' ')
            p.remove_prefix(1);
        if (const auto byte = parseByteToken(p)) {
            out += static_cast<char>(*byte);
            continue;
        }
        out += p;
    }
    return out;
}

std::string Llama2cTokenizer::description() const
{
    return "llama2.c tokenizer.bin (" + std::filesystem::path(m_path).filename().string() + ")";
}

} // namespace blockscope
