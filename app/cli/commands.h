#pragma once

// The subcommands of blockscope-cli, each added to the app by its own translation unit.

#include <vector>

namespace CLI {
class App;
}

namespace blockscope::ppa {
struct PpaPoint;
}

namespace blockscope::cli {

// `blockscope-cli inspect PATH [--json] [--stats]`
void addInspectCommand(CLI::App &app, int &exitCode);
// `blockscope-cli eval PATH --text FILE [--protocol ...] [--pool ...] [--skip-attn ...] ...`
void addEvalCommand(CLI::App &app, int &exitCode);
// `blockscope-cli export EXPERIMENT.h5 [--run ID] [--step N | --point LABEL] --out DIR`
void addExportCommand(CLI::App &app, int &exitCode);
// `blockscope-cli train-demo --corpus FILE --out DIR [...]`
void addTrainDemoCommand(CLI::App &app, int &exitCode);
// `blockscope-cli prune PATH --method M --target N|FRACTION --calib FILE --out EXPERIMENT.h5 [--resume]`
void addPruneCommand(CLI::App &app, int &exitCode);
// `blockscope-cli report EXPERIMENT.h5 [--run ID] [--json|--csv]`
void addReportCommand(CLI::App &app, int &exitCode);
// `blockscope-cli gates train PATH --calib FILE --out GATES [--steps --lr --block ...] [--resume]`
// `blockscope-cli gates eval PATH --gates GATES --text FILE (--threshold T | --density D)...`
void addGatesCommand(CLI::App &app, int &exitCode);
// `blockscope-cli attention PATH --text FILE --layer L [--head H] [--gates G ...] --png OUT.png`
// renders a block-level attention heatmap headlessly (Qt Gui, offscreen). Builds without the GUI
// libraries keep the command and say why it cannot draw.
void addAttentionCommand(CLI::App &app, int &exitCode);
// `blockscope-cli ppa PATH [--experiment EXP.h5 --run ID] [--device cpu|cuda] [--batch B --seq S]
//  [--predict-for H100,...]`: the PPA table, written to the experiment file.
void addPpaCommand(CLI::App &app, int &exitCode);

// The PPA table as `ppa` prints it (also used by `report` for runs with PPA points).
void printPpaTable(const std::vector<ppa::PpaPoint> &points);

} // namespace blockscope::cli
