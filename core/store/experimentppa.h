#pragma once

// The PPA points of a run or a sweep in the experiment file (README, "Experiment file format": the
// optional /runs/<id>/ppa group, /sweeps/<id>/ppa). Private to core/store: experimentfile.cpp and
// experimentsweeps.cpp call these inside the file's reads and write transactions.

#include "h5handles.h"
#include "ppa/ppa.h"

#include <string>
#include <vector>

namespace blockscope::ppastore {

// One-dimensional string datasets: written variable-length UTF-8; read variable- or fixed-length.
void writeStrings(const h5::Location &at, const std::string &name, const std::vector<std::string> &values);
std::vector<std::string> readStrings(const h5::Location &at, const std::string &name);

// Refuses, with a UsageError starting with `where`, what the layout cannot hold or read() would
// refuse: a mask that is neither empty nor `layers` long, a unit outside the run.
void checkPoints(const std::vector<ppa::PpaPoint> &points, int layers, const std::string &where);
// Replaces the group's (a run's or a sweep's) "ppa" subgroup by one holding `points` (an empty group for none).
void writePoints(const h5::Location &run, const std::vector<ppa::PpaPoint> &points);
// The group's points; empty when it has no "ppa" subgroup (files written before PPA).
std::vector<ppa::PpaPoint> readPoints(const h5::Location &run, int layers);

} // namespace blockscope::ppastore
