#include "textstreams.h"

#include "text/corpus.h"
#include "text/tokenizer.h"

#include <filesystem>

namespace blockscope {

TextStream textStreamFor(const std::string &path, const Tokenizer &tokenizer, Protocol protocol, TextPool pool)
{
    TextStream out;
    const std::string name = std::filesystem::path(path).filename().string();
    protocol.textSource = name;
    protocol.tokenizer = tokenizer.description();
    auto append = [&](const std::vector<std::int32_t> &ids) { out.ids.insert(out.ids.end(), ids.begin(), ids.end()); };
    if (name.size() > 6 && name.ends_with(".jsonl")) {
        const JsonlTexts docs = readJsonlTexts(path);
        std::string joined;
        for (std::size_t i = 0; i < docs.texts.size(); ++i)
            joined += (i ? "\n\n" : "") + docs.texts[i];
        append(tokenizer.encode(joined));
        protocol.reconstruction = std::to_string(docs.texts.size()) + " JSONL documents joined with \"\\n\\n\""
            + (docs.skipped ? " (" + std::to_string(docs.skipped) + " lines without text skipped)" : "");
    } else if (protocol.preset == "tiny-ts") {
        const std::vector<std::string> paragraphs = tinyTsParagraphs(readTextFile(path));
        const std::size_t n = paragraphs.size();
        std::size_t from = 0, to = n;
        if (pool == TextPool::Calibration)
            to = n / 4;
        else if (pool == TextPool::Evaluation)
            from = n / 2;
        for (std::size_t i = from; i < to; ++i)
            append(tokenizer.encode(paragraphs[i]));
        protocol.reconstruction = "paragraphs [" + std::to_string(from) + ", " + std::to_string(to) + ") of "
            + std::to_string(n)
            + " (split on blank lines, stripped, space runs collapsed), each encoded without BOS, concatenated";
    } else if (name.ends_with(".raw")) {
        append(tokenizer.encode(wikitextJoinedRows(readTextFile(path))));
        protocol.reconstruction = "WikiText rows (lines; \" \\n\" lines empty) joined with \"\\n\\n\"";
    } else {
        append(tokenizer.encode(readTextFile(path)));
        protocol.reconstruction = "whole file encoded once";
    }
    out.protocol = std::move(protocol);
    return out;
}

} // namespace blockscope
