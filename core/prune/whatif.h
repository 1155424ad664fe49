#pragma once

#include "eval/protocol.h"
#include "model/unitmask.h"

#include <cstdint>
#include <memory>
#include <string>

namespace blockscope {

class JobContext;

struct WhatIfResult
{
    UnitMask mask;
    double perplexity = 0;
    double densePerplexity = 0;
    double klToDense = 0; // kl_evopress per predicted token
    std::int64_t tokens = 0;
    double seconds = 0;
    Protocol protocol;
};

// Answers "what if these units were gone?" quickly: holds the decoder, a few evaluation windows
// and the dense model's final hidden states on them, so each question costs one masked forward
// (its LM head a slice of positions at a time, so memory stays bounded at a 49k-token vocabulary).
// Not thread-safe: one question at a time (the app asks from its job runner, newest first).
class WhatIfEvaluator
{
public:
    struct Options
    {
        std::string modelPath;
        std::string textPath;
        std::string tokenizerPath; // empty: found beside the model
        std::string protocol = "tiny-ts";
        std::int64_t context = 0; // 0: the preset's, capped by the model
        std::int64_t windows = 8; // evaluation windows used (0: all)
        std::string device = "cpu";
    };

    // Opens the model, tokenizes the text, computes the dense reference. Throws UsageError /
    // FormatError naming the file at fault, JobCancelled when stopped.
    static std::shared_ptr<WhatIfEvaluator> create(const Options &options, JobContext &job);
    ~WhatIfEvaluator();

    WhatIfResult evaluate(const UnitMask &mask, JobContext &job) const;
    int layers() const;
    const Options &options() const;

private:
    struct Impl;
    explicit WhatIfEvaluator(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> d;
};

} // namespace blockscope
