#pragma once

#include <string>

namespace blockscope {

// Whether this build has CUDA support and a usable device is present right now.
bool cudaAvailable();

// CUDA devices this process sees (0 without CUDA).
int cudaDeviceCount();

// A one-line description of the compute devices, for logs and --version output.
std::string deviceSummary();

// The LibTorch version this build is linked against, e.g. "2.11.0".
std::string torchVersion();

} // namespace blockscope
