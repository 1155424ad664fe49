#pragma once

#include <QString>

namespace blockscope::gui {

// The model opened when `blockscope` starts without a path. Empty for now: the window starts
// in its empty state. The bundled demo model will be returned from here.
QString defaultModelPath();

} // namespace blockscope::gui
