#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace blockscope {

// How a perplexity is reduced over windows (pruning.md §2).
enum class PplFormula {
    F1MeanOfWindows, // exp(mean_w l_w) over non-overlapping full windows (GPTQ/SLEB)
    F2TokenWeighted, // exp(sum NLL / sum predicted tokens) (EvoPress, Blockscope default)
    F3MeanOfWindowPpl, // mean_w exp(l_w) (FinerCut's own evaluator)
    F4Strided, // sliding windows of T with stride S, each target scored once (HF strided)
};

enum class BosPolicy {
    None, // no BOS anywhere
    StreamStart, // one BOS at the start of the tokenized stream
    EachWindow, // every window is [BOS] + the next T-1 stream tokens
};

// Everything that determines a perplexity or a distance, shown next to every number in the app,
// the CLI and the experiment file: the protocol card.
struct Protocol
{
    std::string preset; // "tiny-ts", "sleb", "evopress", "sliding", or "custom"
    std::string textSource; // file the text came from
    std::string reconstruction; // how the text was rebuilt (paragraph split, joins, normalisation)
    // Which part of the text: "evaluation pool: tokens [a, b) of n (calibration pool [0, c))"
    // (textstreams.h); empty in files written before pools were recorded.
    std::string pool;
    std::string selection = "all full windows"; // which windows, and how chosen
    std::uint64_t seed = 0;
    std::string tokenizer; // implementation and file
    BosPolicy bos = BosPolicy::EachWindow;
    std::int64_t context = 512; // T
    std::int64_t stride = 512; // S (== T: non-overlapping)
    PplFormula formula = PplFormula::F2TokenWeighted;
    std::int64_t maxWindows = 0; // 0 = all
    std::int64_t windows = 0; // filled in once windows are cut
    std::int64_t tokens = 0; // tokens in the windows
    std::int64_t scoredTokens = 0;
    std::string dtype = "float32";
    std::string device = "cpu";
    // What a search keeps of the dense model as its reference (EvoPress's teacher logits and their
    // precision); empty for a perplexity and for searches that keep none.
    std::string teacher;

    nlohmann::json toJson() const;
    static Protocol fromJson(const nlohmann::json &j); // throws std::invalid_argument naming the field
    std::string card() const; // multi-line text card
    std::string oneLine() const; // "tiny-ts: T=512 S=512 BOS each window, F2, 372 windows, 190115 tokens"
};

std::string formulaName(PplFormula f);
std::string bosName(BosPolicy b);

// Presets of pruning.md §2. Throws std::invalid_argument for an unknown name; names are
// "tiny-ts", "sleb" (GPTQ/SLEB-style F1, BOS at stream start, T 2048), "evopress" (F2, no BOS,
// T 4096), "sliding" (F4, T 512, S 256), "finercut" (F3, T 256, BOS at stream start).
Protocol protocolPreset(const std::string &name);
std::string protocolPresetNames();

} // namespace blockscope
