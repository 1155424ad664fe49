#pragma once

#include <QString>

namespace blockscope::gui {

// The model opened when `blockscope` starts without a path: the bundled demo model
// (resources/demo-model), or empty when it cannot be found, and the window starts empty.
QString defaultModelPath();

} // namespace blockscope::gui
