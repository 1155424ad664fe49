#pragma once

namespace CLI {
class App;
}

namespace blockscope::cli {

// `blockscope-cli ppa PATH [--experiment EXP.h5 --run ID] [--device cpu|cuda] [--batch B --seq S]
//  [--predict-for H100,...]`: the PPA table, written to the experiment file.
void addPpaCommand(CLI::App &app, int &exitCode);

} // namespace blockscope::cli
