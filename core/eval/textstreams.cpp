#include "textstreams.h"

#include "text/corpus.h"
#include "text/tokenizer.h"

#include <filesystem>
#include <system_error>

namespace blockscope {

const char *textPoolName(TextPool pool)
{
    switch (pool) {
    case TextPool::Calibration: return "calibration";
    case TextPool::Evaluation: return "evaluation";
    case TextPool::All: return "all";
    }
    return "?";
}

namespace {

// [from, to) of n parts for a pool.
std::pair<std::size_t, std::size_t> poolRange(std::size_t n, TextPool pool)
{
    switch (pool) {
    case TextPool::Calibration: return {0, n / 4};
    case TextPool::Evaluation: return {n / 2, n};
    case TextPool::All: break;
    }
    return {0, n};
}

std::string rangeText(const char *parts, std::size_t n, TextPool pool)
{
    const auto [from, to] = poolRange(n, pool);
    std::string s = std::string(textPoolName(pool)) + " pool: " + parts + " [" + std::to_string(from) + ", "
        + std::to_string(to) + ") of " + std::to_string(n);
    if (pool == TextPool::Evaluation) {
        const auto [cf, ct] = poolRange(n, TextPool::Calibration);
        s += " (calibration pool [" + std::to_string(cf) + ", " + std::to_string(ct) + "))";
    } else if (pool == TextPool::Calibration) {
        const auto [ef, et] = poolRange(n, TextPool::Evaluation);
        s += " (evaluation pool [" + std::to_string(ef) + ", " + std::to_string(et) + "))";
    }
    return s;
}

// The pool's share of a whole stream, by token position.
void keepTokens(std::vector<std::int32_t> &ids, TextPool pool, Protocol &protocol)
{
    const std::size_t n = ids.size();
    const auto [from, to] = poolRange(n, pool);
    ids = std::vector<std::int32_t>(
        ids.begin() + static_cast<std::ptrdiff_t>(from), ids.begin() + static_cast<std::ptrdiff_t>(to));
    protocol.pool = rangeText("tokens", n, pool);
}

} // namespace

TextStream textStreamFor(const std::string &path, const Tokenizer &tokenizer, Protocol protocol, TextPool pool)
{
    TextStream out;
    const std::string name = std::filesystem::path(path).filename().string();
    protocol.textSource = name;
    protocol.tokenizer = tokenizer.description();
    auto append = [&](const std::vector<std::int32_t> &ids) { out.ids.insert(out.ids.end(), ids.begin(), ids.end()); };
    if (name.size() > 6 && name.ends_with(".jsonl")) {
        const JsonlTexts docs = readJsonlTexts(path);
        const std::size_t n = docs.texts.size();
        const bool byDocument = n >= 4;
        const auto [from, to] = byDocument ? poolRange(n, pool) : std::pair<std::size_t, std::size_t>{0, n};
        std::string joined;
        for (std::size_t i = from; i < to; ++i)
            joined += (i > from ? "\n\n" : "") + docs.texts[i];
        append(tokenizer.encode(joined));
        protocol.reconstruction = std::to_string(to - from) + " JSONL documents joined with \"\\n\\n\""
            + (docs.skipped ? " (" + std::to_string(docs.skipped) + " lines without text skipped)" : "");
        if (byDocument)
            protocol.pool = rangeText("documents", n, pool);
        else
            keepTokens(out.ids, pool, protocol);
    } else if (protocol.preset == "tiny-ts") {
        const std::vector<std::string> paragraphs = tinyTsParagraphs(readTextFile(path));
        const std::size_t n = paragraphs.size();
        const auto [from, to] = poolRange(n, pool);
        for (std::size_t i = from; i < to; ++i)
            append(tokenizer.encode(paragraphs[i]));
        protocol.reconstruction = "paragraphs [" + std::to_string(from) + ", " + std::to_string(to) + ") of "
            + std::to_string(n)
            + " (split on blank lines, stripped, space runs collapsed), each encoded without BOS, concatenated";
        protocol.pool = rangeText("paragraphs", n, pool);
    } else {
        if (name.ends_with(".raw")) {
            append(tokenizer.encode(wikitextJoinedRows(readTextFile(path))));
            protocol.reconstruction = "WikiText rows (lines; \" \\n\" lines empty) joined with \"\\n\\n\"";
        } else {
            append(tokenizer.encode(readTextFile(path)));
            protocol.reconstruction = "whole file encoded once";
        }
        keepTokens(out.ids, pool, protocol);
    }
    out.protocol = std::move(protocol);
    return out;
}

TextPools poolsFor(const Protocol &protocol, const std::string &calibrationPath, const std::string &evaluationPath)
{
    if (protocol.preset == "tiny-ts" || evaluationPath.empty() || evaluationPath == calibrationPath)
        return {};
    std::error_code ec;
    if (std::filesystem::equivalent(calibrationPath, evaluationPath, ec) && !ec)
        return {};
    return {TextPool::All, TextPool::All};
}

TextPool standalonePool(const Protocol &protocol)
{
    return protocol.preset == "tiny-ts" ? TextPool::Evaluation : TextPool::All;
}

} // namespace blockscope
