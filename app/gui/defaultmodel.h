#pragma once

#include <QString>

namespace blockscope::gui {

// The model opened when `blockscope` starts without a path: the bundled demo model
// (resources/demo-model), or empty when it cannot be found, and the window starts empty.
QString defaultModelPath();

// The calibration text the pruning page starts with for a model: $BLOCKSCOPE_CALIBRATION_TEXT,
// else the text of the source tree's shared data that suits the model (TinyStories for the
// stories* checkpoints, Tiny Shakespeare, which the demo model was trained on, for the rest).
// Empty when none exists: an installed app has no shared data, and the page asks for a text.
QString defaultCalibrationText(const QString &modelPath);

} // namespace blockscope::gui
