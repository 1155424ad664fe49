#pragma once

#include "experimentfile.h"

#include <nlohmann/json.hpp>
#include <string>

namespace blockscope {

// A run as JSON: its info (options, protocols, model reference), every step with all fields and
// its PPA points (costs "modelled" by construction; each measured figure with its provenance).
nlohmann::json runToJson(const ExperimentRun &run);
// A run's steps as CSV, one row per step: index, kind, chosen units, score, near tie, units
// removed so far, perplexity, KL, evaluations, unit-forwards, tokens, seconds.
std::string runToCsv(const ExperimentRun &run);
// The text `blockscope-cli report` prints: each run's method, options, removed units per step
// and metrics.
std::string runReportText(const ExperimentRun &run);

} // namespace blockscope
