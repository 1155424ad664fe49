#pragma once

// A sparsity sweep as the experiment file keeps it: perplexity and attention-mass recall of the
// model with block-sparse prefill attention at several thresholds or densities, each point with
// its PPA point (ppa.md: "every point of a sparsity sweep").

#include "ppa/ppa.h"

#include <cstdint>
#include <string>
#include <vector>

namespace blockscope {

struct SweepPoint
{
    std::string rule; // "density 0.5, last 2 rows dense"
    std::string ruleKind; // "density" or "threshold"
    double ruleValue = 0;
    bool lastBlockDense = true;
    double perplexity = ppa::NaN;
    double tileDensity = ppa::NaN; // forced rows included
    double pairDensity = ppa::NaN;
    double recallMean = ppa::NaN, recallP5 = ppa::NaN, recallMin = ppa::NaN;
    std::int64_t emptyRows = 0;
    std::int64_t tokens = 0;
    ppa::PpaPoint ppa; // modelled costs at this pair density (+ predictions); ppa.measured when measured
};

struct SweepRecord
{
    std::string id; // "sweep-0001", assigned by addSweep
    std::string label;
    std::string masks; // "gates", "static", "random", "oracle"
    std::string modelPath, modelHash;
    std::string gatesPath, gatesHash;
    std::string textPath;
    std::string protocol; // one line
    int blockSize = 0;
    double densePerplexity = ppa::NaN;
    std::string started; // ISO 8601, UTC
    std::vector<SweepPoint> points;
};

} // namespace blockscope
