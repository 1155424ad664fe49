#pragma once

namespace CLI {
class App;
}

namespace blockscope::cli {

// `blockscope-cli attention PATH --text FILE --layer L [--head H] [--gates G ...] --png OUT.png`
// renders a block-level attention heatmap headlessly (Qt Gui, offscreen). Builds without the GUI
// libraries keep the command and say why it cannot draw.
void addAttentionCommand(CLI::App &app, int &exitCode);

} // namespace blockscope::cli
