#include "limits.h"

namespace blockscope {

const SanityCaps &defaultCaps()
{
    static const SanityCaps caps;
    return caps;
}

} // namespace blockscope
