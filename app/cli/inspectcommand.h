#pragma once

namespace CLI {
class App;
}

namespace blockscope::cli {

// `blockscope-cli inspect PATH [--json] [--stats]`
void addInspectCommand(CLI::App &app, int &exitCode);

} // namespace blockscope::cli
