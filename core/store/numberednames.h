#pragma once

// The numbered groups of the experiment file (README, "Experiment file format"): run-0001,
// sweep-0001, point-000, prediction-000: a prefix and the number in at least `digits` digits.

#include "h5handles.h"

#include <string>
#include <vector>

namespace blockscope::h5 {

std::string numberedName(const std::string &prefix, int number, int digits);
// The number in `name`; -1 unless `name` is exactly what numberedName writes for it.
int nameNumber(const std::string &name, const std::string &prefix, int digits);
// The children of `at` named prefix + number, in number order. Any other child is damage: "is not
// a <what>". With `contiguous`, the numbers must run 0, 1, 2, ... (a gap names the missing group).
std::vector<std::string> numberedChildren(
    const Location &at, const std::string &prefix, int digits, const std::string &what, bool contiguous);

} // namespace blockscope::h5
