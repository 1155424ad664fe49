#pragma once

// A search step as JSON, both ways: the export (`report --format json`, NaN and infinities as
// null) and the exact form the experiment journal keeps (every double reads back bit for bit;
// non-finite values as "nan", "inf", "-inf").

#include "prune/trace.h"

#include <nlohmann/json.hpp>

namespace blockscope::stepjson {

// A figure for the export: null when not finite.
nlohmann::json number(double v);
nlohmann::json mask(const UnitMask &m);
// A double that reads back bit for bit through readNumber(), non-finite ones included.
nlohmann::json exactNumber(double v);
// Reads number() or exactNumber() output (null is NaN); throws std::invalid_argument naming `field`.
double readNumber(const nlohmann::json &v, const std::string &field);
// Every field of the step. `exact`: non-finite doubles as strings, so parse() restores them.
nlohmann::json step(const TraceStep &s, bool exact = false);
// A scored candidate as the journal keeps it (and the ranks and the app exchange it): step, stage,
// index, what, the exact score, and lower_bound with tokens for a stopped one.
nlohmann::json candidate(const CandidateRecord &c);
// The inverse of candidate(); throws std::invalid_argument naming the field at fault.
CandidateRecord parseCandidate(const nlohmann::json &j);
// The inverse of step(); throws std::invalid_argument naming the field at fault ("candidates[2].score:
// not a number"). Does not check the step against a model: checkStep does that.
TraceStep parse(const nlohmann::json &j);

} // namespace blockscope::stepjson
