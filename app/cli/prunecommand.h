#pragma once

namespace CLI {
class App;
}

namespace blockscope::cli {

// `blockscope-cli prune PATH --method M --target N|FRACTION --calib FILE --out EXPERIMENT.h5 [--resume]`
void addPruneCommand(CLI::App &app, int &exitCode);
// `blockscope-cli report EXPERIMENT.h5 [--run ID] [--json|--csv]`
void addReportCommand(CLI::App &app, int &exitCode);

} // namespace blockscope::cli
