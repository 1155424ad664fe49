#pragma once

// The one way a finished file is written: into a temporary beside it, flushed and checked, then
// renamed over the destination, so a reader sees the old file or the new one and never half of
// one, and a failed write leaves what was there untouched.

#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace blockscope {

// `write` fills the stream; the temporary is "<path>.partial". Throws IoError (common/formaterror.h)
// naming the path and the reason (no space, no permission, a missing folder); whatever `write`
// throws propagates. Either way the temporary is removed and the destination is as it was.
void writeFileAtomically(const std::string &path, const std::function<void(std::ostream &)> &write);
void writeFileAtomically(const std::string &path, std::string_view bytes);

} // namespace blockscope
