// loadTokenizerFor: the tokenizer that belongs to a model, checked against the model's vocabulary.
#include "common/formaterror.h"
#include "ggufvocab.h"
#include "hftokenizer.h"
#include "llama2ctokenizer.h"
#include "model/checkpointreaders.h"
#include "model/ggufmetadata.h"
#include "model/modelhandle.h"
#include "sentencepiecetokenizer.h"
#include "tokenizer.h"

#include <filesystem>
#include <fstream>

namespace blockscope {

namespace fs = std::filesystem;

namespace {

bool endsWith(const std::string &s, std::string_view suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool startsWithGgufMagic(const std::string &path)
{
    char magic[4] = {};
    std::ifstream in(path, std::ios::binary);
    in.read(magic, 4);
    return in.gcount() == 4 && std::string_view(magic, 4) == "GGUF";
}

std::unique_ptr<Tokenizer> loadFile(const ModelHandle &model, const std::string &path)
{
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
        throw UsageError("tokenizer file " + path + " does not exist");
    if (endsWith(path, ".json"))
        return HfTokenizer::load(path);
    if (endsWith(path, ".model"))
        return SentencePieceTokenizer::load(path);
    if (endsWith(path, ".gguf") || startsWithGgufMagic(path))
        return ggufTokenizer(readGgufMetadata(path), path);
    if (endsWith(path, ".bin"))
        return Llama2cTokenizer::load(path, model.architecture().vocab);
    throw UsageError("cannot tell the kind of tokenizer " + path
        + ": expected tokenizer.json, a SentencePiece .model, a llama2.c .bin or a .gguf");
}

std::string findBeside(const ModelHandle &model)
{
    std::error_code ec;
    const fs::path p(model.path());
    const fs::path dir = fs::is_directory(p, ec) ? p : p.parent_path();
    for (const char *name : {"tokenizer.json", "tokenizer.model", "tokenizer.bin"})
        if (fs::is_regular_file(dir / name, ec))
            return (dir / name).string();
    return {};
}

} // namespace

std::unique_ptr<Tokenizer> loadTokenizerFor(const ModelHandle &model, const std::string &explicitPath)
{
    std::string path = explicitPath;
    if (path.empty() && model.tokenizer())
        path = model.tokenizer()->path;
    if (path.empty())
        path = findBeside(model);
    if (path.empty())
        throw UsageError("no tokenizer found for " + model.path()
            + " (looked for tokenizer.json, tokenizer.model and tokenizer.bin beside it); give one "
              "explicitly");
    std::unique_ptr<Tokenizer> t = loadFile(model, path);

    const Architecture &a = model.architecture();
    const std::int64_t modelVocab = a.vocab;
    const bool exact = dynamic_cast<SentencePieceTokenizer *>(t.get()) != nullptr;
    // Embedding tables are often padded past the tokenizer (Qwen2 rounds up), so only a
    // tokenizer larger than the model is refused; a SentencePiece model must match exactly (§3).
    if (modelVocab > 0 && (t->vocabSize() > modelVocab || (exact && t->vocabSize() != modelVocab)))
        throw FormatError(path, FormatError::NoOffset, "vocabulary",
            "the tokenizer has " + std::to_string(t->vocabSize()) + " tokens but the model " + model.path()
                + " has a vocabulary of " + std::to_string(modelVocab));
    auto first = [](const std::vector<std::int64_t> &v) {
        return v.empty() ? std::nullopt : std::optional<std::int32_t>(static_cast<std::int32_t>(v.front()));
    };
    if (auto *hf = dynamic_cast<HfTokenizer *>(t.get()))
        hf->setSpecialIds(first(a.bosTokenIds), first(a.eosTokenIds));
    if (exact) {
        const auto bos = first(a.bosTokenIds), eos = first(a.eosTokenIds);
        if (bos && t->bosId() != bos)
            throw FormatError(path, FormatError::NoOffset, "bos_id",
                "the SentencePiece model's BOS id " + std::to_string(t->bosId().value_or(-1))
                    + " differs from the model's " + std::to_string(*bos));
        if (eos && t->eosId() != eos)
            throw FormatError(path, FormatError::NoOffset, "eos_id",
                "the SentencePiece model's EOS id " + std::to_string(t->eosId().value_or(-1))
                    + " differs from the model's " + std::to_string(*eos));
    }
    return t;
}

} // namespace blockscope
