#pragma once

namespace CLI {
class App;
}

namespace blockscope::cli {

// `blockscope-cli export EXPERIMENT.h5 [--run ID] [--step N | --point LABEL] --out DIR`
void addExportCommand(CLI::App &app, int &exitCode);

} // namespace blockscope::cli
