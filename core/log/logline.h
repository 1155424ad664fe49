#pragma once

#include <string_view>

namespace blockscope::log {

enum class Subsystem { Model, Text, Eval, Prune, Sparse, Ppa, Store, Jobs };
enum class Level { Debug, Info, Warn, Error };

// Writes one preformatted line to a subsystem's logger. For sources that cannot include spdlog
// (those that include LibTorch, whose bundled fmt clashes with the system one).
void line(Subsystem subsystem, Level level, std::string_view message);

} // namespace blockscope::log
