#pragma once

#include "experimentfile.h"
#include "sparse/sparseeval.h"

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

// A sparsity sweep as JSON: its record (model, gates, text, protocol, block size, dense perplexity)
// and every point with all fields, "sparsity" (1 - tile density) and its PPA point as runToJson
// writes them; NaN as null.
nlohmann::json sweepToJson(const SweepRecord &sweep);
// A sweep's points as CSV, one row per point: rule, kind, value, perplexity, tile_density, sparsity,
// pair_density, recall_mean, recall_p5, recall_min, empty_rows, tokens, the PPA point's params_kept,
// prefill_flops_per_token and decode_bytes_per_token, and its first prediction's device and
// prefill tokens/s (empty when it has none). NaN is an empty field.
std::string sweepToCsv(const SweepRecord &sweep);
// Several sweeps in one table: sweepToCsv's columns after a "series" column holding each sweep's
// label (its id when it has none).
std::string sweepsToCsv(const std::vector<SweepRecord> &sweeps);

// A sparse evaluation as the point of a sweep: what runSparsitySweep stores in an experiment file
// and what the app's sweep chart exports, from the one conversion.
SweepPoint sweepPointOf(const sparse::SparseEvalResult &result);

} // namespace blockscope
