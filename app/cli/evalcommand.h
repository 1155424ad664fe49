#pragma once

namespace CLI {
class App;
}

namespace blockscope::cli {

// `blockscope-cli eval PATH --text FILE [--protocol ...] [--skip-attn ...] ...`
void addEvalCommand(CLI::App &app, int &exitCode);

} // namespace blockscope::cli
