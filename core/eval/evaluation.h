#pragma once

#include "model/unitmask.h"
#include "perplexity.h"
#include "protocol.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace blockscope {

class JobContext;

// One evaluation as the CLI and the app ask for it: a model, a text, a protocol, a unit mask.
struct EvaluationRequest
{
    std::string modelPath;
    std::string textPath;
    std::string tokenizerPath;
    std::string protocol = "tiny-ts";
    std::int64_t context = 0; // 0: the preset's, capped by the model's context
    std::int64_t stride = 0; // 0: the preset's
    std::int64_t maxWindows = 0;
    std::string pool = "auto"; // auto (standalonePool), calibration, evaluation or all
    std::vector<int> skipAttn, skipMlp, skipBlock;
    std::string device = "cpu";
    std::string dtype = "float32";
    int batch = 8;
};

struct EvaluationReport
{
    std::string model;
    PerplexityResult perplexity;
    std::optional<PerplexityResult> densePerplexity; // when units are skipped
    std::optional<DistanceResult> distance; // when units are skipped
    double seconds = 0;

    nlohmann::json toJson() const;
    std::string text() const; // perplexity with its protocol card
};

// Throws UsageError for a request that cannot be run as asked (bad block index, context beyond
// the model's, CUDA without a device), FormatError for bad files, JobCancelled when stopped.
EvaluationReport runEvaluation(const EvaluationRequest &request, JobContext &job);

} // namespace blockscope
