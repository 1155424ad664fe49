#include "device.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/version.h>

namespace blockscope {

bool cudaAvailable()
{
#ifdef BLOCKSCOPE_HAVE_CUDA
    return at::globalContext().hasCUDA() && at::detail::getCUDAHooks().deviceCount() > 0;
#else
    return false;
#endif
}

int cudaDeviceCount()
{
#ifdef BLOCKSCOPE_HAVE_CUDA
    return at::globalContext().hasCUDA() ? static_cast<int>(at::detail::getCUDAHooks().deviceCount()) : 0;
#else
    return 0;
#endif
}

std::string deviceSummary()
{
    std::string s = "LibTorch " + torchVersion() + ", CPU threads " + std::to_string(at::get_num_threads());
#ifdef BLOCKSCOPE_HAVE_CUDA
    s += cudaAvailable() ? ", CUDA devices " + std::to_string(at::detail::getCUDAHooks().deviceCount())
                         : ", CUDA built in but no device";
#else
    s += ", built without CUDA";
#endif
    return s;
}

std::string torchVersion()
{
    return TORCH_VERSION;
}

} // namespace blockscope
