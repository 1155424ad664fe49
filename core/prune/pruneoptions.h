#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace blockscope {

enum class PruneMethod { Sleb, FinerCut, EvoPress, ShortGpt, Angular };

std::string pruneMethodName(PruneMethod m); // "sleb", "finercut", "evopress", "shortgpt", "angular"
// Throws UsageError listing the valid names.
PruneMethod pruneMethodFromName(const std::string &name);
std::string pruneMethodNames(); // "sleb, finercut, evopress, shortgpt, angular"

// Every option of every method, with the papers' defaults (pruning.md §3–§7) and the tiny-ts
// budgets of §2. Options a method does not use are ignored by it and still recorded.
struct PruneOptions
{
    PruneMethod method = PruneMethod::Sleb;
    // How much to remove. A value >= 1 is a count, a value in (0, 1) a fraction:
    //   SLEB / ShortGPT / angular: blocks, K = ceil(L * r);
    //   FinerCut: sublayer steps, S = floor(|U| * r) (|U| = 2L at level "am"); 0 = full ranking;
    //   EvoPress: k attention and k MLP sublayers, k = floor(L * r).
    double target = 0;
    std::uint64_t seed = 0;
    // Calibration windows the search uses (0 = all the calibration windows given).
    std::int64_t calibrationWindows = 0;
    // Windows per forward batch (0 = all windows of an evaluation in one batch).
    int batch = 0;
    // Block-boundary caching (§8). Off = the naive full re-evaluation of the official codes.
    bool cached = true;
    // Evaluate perplexity and KL to dense of the configuration after every step, on the
    // evaluation windows (when some are given).
    bool evaluateSteps = true;

    // SLEB
    // A candidate stops once its running NLL sum shows it cannot win (it exceeds the best complete
    // score of the step by more than a near tie); its score is then a lower bound, flagged in the
    // trace. The chosen blocks, their scores and the near-tie flags are those of a full run.
    bool earlyStop = false;
    int earlyBarrier = 1;
    int latterBarrier = 1;
    // Blocks no method may remove (SLEB, ShortGPT, angular, EvoPress positions).
    std::vector<int> protectedBlocks;

    // FinerCut
    std::string finercutLevel = "am"; // am, a, m, block
    double excludeFraction = 0.0; // x
    std::string finercutMetric = "js"; // js, kl, norm

    // EvoPress
    int offspring = 32;
    int generations = 0; // 0 = floor(k (L - k) / 1.5)
    int initialGenomes = 64;
    std::int64_t initialTokens = 2048;
    std::vector<std::int64_t> stageTokens = {2048, 32768};
    std::vector<int> stageSurvivors = {2, 1};
    int maxMutations = 3;
    bool dropEntireBlock = false;
    std::string evoFitness = "kl"; // kl, ppl
    // The KL fitness's teacher (the dense model's logits on every calibration token, pruning.md
    // §5), kept on the host as float16 (default), bfloat16 or float32 logits, or as "top-k": the
    // teacherTopK most likely tokens' log-probabilities plus one bucket for the rest (the KL
    // between those K+1 buckets, a lower bound of the full KL). It must fit in teacherBudgetMiB.
    std::string teacher = "float16"; // float16, bfloat16, float32, top-k
    int teacherTopK = 512;
    double teacherBudgetMiB = 4096;

    // ShortGPT / angular
    bool lastHiddenPostNorm = true;
    bool angularAllTokens = false; // angular: all tokens instead of the last one
    bool angularDivideByPi = true;

    nlohmann::json toJson() const;
    // Throws UsageError naming the field for a wrong type or value.
    static PruneOptions fromJson(const nlohmann::json &j);
    // Defaults of the tiny-ts budgets (§2) for a method: calibration windows, EvoPress token budgets.
    static PruneOptions tinyTsDefaults(PruneMethod method);
    // Calibration windows of length `context` a method uses under a protocol preset when the user
    // gives none (0: every window of the calibration text): tiny-ts its budgets (§2); sleb the 128
    // windows of the SLEB paper; finercut 10 windows (the official 10 x 256); evopress 2^17 tokens
    // (the depth script's); ShortGPT and angular, outside tiny-ts, every window. `sliding` is an
    // evaluation protocol: it takes the tiny-ts budgets.
    static int calibrationBudget(PruneMethod method, const std::string &protocol, std::int64_t context);
    // Checks the options against a model of `layers` blocks and `calibrationTokens` tokens of
    // calibration; throws UsageError naming the option at fault.
    void validate(int layers, std::int64_t calibrationTokens) const;
    // The number of units to remove (K, S or k above) for a model of `layers` blocks.
    int targetCount(int layers) const;

    // Whether the search keeps a teacher under the options above (EvoPress with the KL fitness).
    bool usesTeacher() const;
    // Bytes the teacher takes for `tokens` calibration tokens of a `vocab`-token model.
    double teacherBytes(std::int64_t tokens, std::int64_t vocab) const;
    // For the protocol card, e.g. "dense logits in float16 on the host, 3.0 GiB for 32768 tokens x
    // 49152"; empty when the search keeps none.
    std::string teacherDescription(std::int64_t tokens, std::int64_t vocab) const;
    // Throws UsageError naming teacher_budget_mib when the teacher does not fit in its budget.
    void checkTeacherBudget(std::int64_t tokens, std::int64_t vocab) const;
};

} // namespace blockscope
