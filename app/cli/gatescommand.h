#pragma once

namespace CLI {
class App;
}

namespace blockscope::cli {

// `blockscope-cli gates train PATH --calib FILE --out GATES [--steps --lr --block ...] [--resume]`
// `blockscope-cli gates eval PATH --gates GATES --text FILE (--threshold T | --density D)...`
void addGatesCommand(CLI::App &app, int &exitCode);

} // namespace blockscope::cli
