#include "defaultmodel.h"

namespace blockscope::gui {

QString defaultModelPath()
{
    return {};
}

} // namespace blockscope::gui
