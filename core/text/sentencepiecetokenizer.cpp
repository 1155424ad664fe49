#include "sentencepiecetokenizer.h"

#include "common/formaterror.h"
#include "common/limits.h"

#include <sentencepiece_processor.h>

#include <cstring>
#include <filesystem>

namespace blockscope {

struct SentencePieceTokenizer::Impl
{
    sentencepiece::SentencePieceProcessor processor;
};

SentencePieceTokenizer::SentencePieceTokenizer()
    : m(std::make_unique<Impl>())
{
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::unique_ptr<SentencePieceTokenizer> SentencePieceTokenizer::load(const std::string &path)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec)
        throw FormatError(path, FormatError::NoOffset, "", "cannot read the file: " + ec.message());
    if (size > defaultCaps().maxTokenizerFileBytes)
        throw FormatError(path, FormatError::NoOffset, "",
            "SentencePiece model of " + std::to_string(size) + " bytes exceeds the 64 MiB cap");
    std::unique_ptr<SentencePieceTokenizer> t(new SentencePieceTokenizer);
    t->m_path = path;
    const auto status = t->m->processor.Load(path);
    if (!status.ok())
        throw FormatError(
            path, FormatError::NoOffset, "ModelProto", "libsentencepiece cannot load it: " + status.ToString());
    if (t->m->processor.GetPieceSize() <= 0)
        throw FormatError(path, FormatError::NoOffset, "pieces", "the model has no pieces");
    return t;
}

std::vector<std::int32_t> SentencePieceTokenizer::encode(std::string_view text) const
{
    std::vector<int> ids;
    const auto status = m->processor.Encode(text, &ids);
    if (!status.ok())
        throw FormatError(m_path, FormatError::NoOffset, "encode", "libsentencepiece failed: " + status.ToString());
    return {ids.begin(), ids.end()};
}

std::string SentencePieceTokenizer::decode(std::span<const std::int32_t> ids) const
{
    const int n = m->processor.GetPieceSize();
    for (const auto id : ids)
        if (id < 0 || id >= n)
            throw UsageError("token id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(n));
    std::string out;
    const auto status = m->processor.Decode(std::vector<int>(ids.begin(), ids.end()), &out);
    if (!status.ok())
        throw FormatError(m_path, FormatError::NoOffset, "decode", "libsentencepiece failed: " + status.ToString());
    return out;
}

std::int64_t SentencePieceTokenizer::vocabSize() const
{
    return m->processor.GetPieceSize();
}

namespace {
std::optional<std::int32_t> idOrNone(int id)
{
    return id >= 0 ? std::optional<std::int32_t>(id) : std::nullopt;
}
} // namespace

std::optional<std::int32_t> SentencePieceTokenizer::bosId() const
{
    return idOrNone(m->processor.bos_id());
}
std::optional<std::int32_t> SentencePieceTokenizer::eosId() const
{
    return idOrNone(m->processor.eos_id());
}
std::optional<std::int32_t> SentencePieceTokenizer::unkId() const
{
    return idOrNone(m->processor.unk_id());
}

std::string SentencePieceTokenizer::description() const
{
    return "SentencePiece .model via libsentencepiece (" + std::filesystem::path(m_path).filename().string() + ")";
}

const std::string &SentencePieceTokenizer::piece(std::int32_t id) const
{
    return m->processor.IdToPiece(id);
}
float SentencePieceTokenizer::score(std::int32_t id) const
{
    return m->processor.GetScore(id);
}

SentencePieceTokenizer::PieceKind SentencePieceTokenizer::kind(std::int32_t id) const
{
    const auto &p = m->processor;
    if (p.IsUnknown(id))
        return PieceKind::Unknown;
    if (p.IsControl(id))
        return PieceKind::Control;
    if (p.IsByte(id))
        return PieceKind::Byte;
    if (p.IsUnused(id))
        return PieceKind::Unused;
    return PieceKind::Normal;
}

std::string sentencePieceToLlama2c(const SentencePieceTokenizer &sp)
{
    const auto n = static_cast<std::int32_t>(sp.vocabSize());
    const auto bos = sp.bosId().value_or(-1);
    const auto eos = sp.eosId().value_or(-1);
    std::vector<std::string> pieces;
    pieces.reserve(n);
    std::int32_t maxLen = 0;
    for (std::int32_t i = 0; i < n; ++i) {
        std::string t = i == bos ? "\n<s>\n" : i == eos ? "\n</s>\n" : sp.piece(i);
        std::string replaced;
        for (std::size_t k = 0; k < t.size();) {
            if (t.compare(k, 3, "\xE2\x96\x81") == 0) {
                replaced += ' ';
                k += 3;
            } else {
                replaced += t[k++];
            }
        }
        maxLen = std::max(maxLen, static_cast<std::int32_t>(replaced.size()));
        pieces.push_back(std::move(replaced));
    }
    std::string out;
    auto put = [&](const void *p, std::size_t len) { out.append(static_cast<const char *>(p), len); };
    put(&maxLen, 4);
    for (std::int32_t i = 0; i < n; ++i) {
        const float s = sp.score(i);
        const auto len = static_cast<std::int32_t>(pieces[i].size());
        put(&s, 4);
        put(&len, 4);
        out += pieces[i];
    }
    return out;
}

} // namespace blockscope
