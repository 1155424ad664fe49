#pragma once

// A search step's layout in the experiment file (README, "Experiment file format": the groups
// under /runs/<id>/steps): written, checked and read. Private to core/store: experimentfile.cpp
// calls these inside the file's reads and write transactions, and when it folds the journal in.

#include "h5handles.h"
#include "prune/trace.h"

#include <string>

namespace blockscope::stepstore {

// A step's group name, "000042", and back (-1 when the name is not a step group).
std::string stepName(int index);
int stepNumber(const std::string &name);

// Refuses, with a UsageError starting with `where`, what the layout cannot hold or readStep would
// refuse: masks that are not `layers` long, units outside the run, and so on.
void checkStep(const TraceStep &step, int layers, const std::string &where);
void writeStep(const h5::Location &at, const TraceStep &step, int layers);
TraceStep readStep(const h5::Location &at, int layers);

} // namespace blockscope::stepstore
