#pragma once

// What the SeerAttention headers name without needing: the engine types they take by reference.

namespace blockscope {
class Decoder;
class JobContext;
struct WindowSet;
} // namespace blockscope

namespace blockscope::sparse {
class GateSet;
} // namespace blockscope::sparse
