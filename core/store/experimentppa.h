#pragma once

// The PPA points of a run in the experiment file (README, "Experiment file format": the optional
// /runs/<id>/ppa group). Private to core/store: experimentfile.cpp calls these inside its read and
// its write transactions.

#include "h5handles.h"
#include "ppa/ppa.h"

#include <string>
#include <vector>

namespace blockscope::ppastore {

// Refuses, with a UsageError starting with `where`, what the layout cannot hold or read() would
// refuse: a mask that is neither empty nor `layers` long, a unit outside the run.
void checkPoints(const std::vector<ppa::PpaPoint> &points, int layers, const std::string &where);
// Replaces the run group's "ppa" subgroup by one holding `points` (an empty group for none).
void writePoints(const h5::Location &run, const std::vector<ppa::PpaPoint> &points);
// The run group's points; empty when it has no "ppa" subgroup (files written before PPA).
std::vector<ppa::PpaPoint> readPoints(const h5::Location &run, int layers);

} // namespace blockscope::ppastore
