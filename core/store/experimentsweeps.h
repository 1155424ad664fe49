#pragma once

// The sparsity sweeps of the experiment file (README, "Experiment file format": the optional
// /sweeps group). Private to core/store: experimentfile.cpp calls these inside its read and its
// write transactions; each point's PPA point is stored by experimentppa.

#include "h5handles.h"
#include "sweeprecord.h"

#include <string>
#include <vector>

namespace blockscope::sweepstore {

// Refuses, with a UsageError starting with `where`, what the layout cannot hold or read() would
// refuse (an unknown rule kind, a negative block size, PPA points of differing mask lengths or with
// a unit outside them). Returns the block count the PPA points describe (stored as @layers).
int checkSweep(const SweepRecord &sweep, const std::string &where);
// Adds /sweeps/sweep-NNNN (creating /sweeps when absent) holding `sweep`; returns the new id.
std::string addSweep(const h5::Location &root, const SweepRecord &sweep, int layers);
// Every sweep in id order; empty when the file has no /sweeps group.
std::vector<SweepRecord> readSweeps(const h5::Location &root);

} // namespace blockscope::sweepstore
