#pragma once

namespace CLI {
class App;
}

#include <vector>

namespace blockscope::ppa {
struct PpaPoint;
}

namespace blockscope::cli {

// The PPA table as `ppa` prints it (also used by `report` for runs with PPA points).
void printPpaTable(const std::vector<ppa::PpaPoint> &points);

// `blockscope-cli ppa PATH [--experiment EXP.h5 --run ID] [--device cpu|cuda] [--batch B --seq S]
//  [--predict-for H100,...]`: the PPA table, written to the experiment file.
void addPpaCommand(CLI::App &app, int &exitCode);

} // namespace blockscope::cli
