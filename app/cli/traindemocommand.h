#pragma once

namespace CLI {
class App;
}

namespace blockscope::cli {

// `blockscope-cli train-demo --corpus FILE --out DIR [...]`
void addTrainDemoCommand(CLI::App &app, int &exitCode);

} // namespace blockscope::cli
