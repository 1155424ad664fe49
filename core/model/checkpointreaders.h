#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace blockscope {

class MappedFile;
struct GgufMetadata;
class ModelHandle;
struct TensorInfo;

// One reader per format (formats.md §1, §4, §5, §6). Each parses metadata only and ends with
// ModelHandle::fromContents; errors are FormatErrors naming the file and field at fault.
std::shared_ptr<const ModelHandle> readGguf(const std::string &path);
// The key/value metadata of a GGUF file without its tensor index (e.g. for the embedded tokenizer).
GgufMetadata readGgufMetadata(const std::string &path);
std::shared_ptr<const ModelHandle> readSafetensorsFile(const std::string &path);
std::shared_ptr<const ModelHandle> readHuggingFaceFolder(const std::string &folder);
// The validated tensor index of any safetensors file (not necessarily a model), for fixtures
// and side files; offsets are absolute in `file`.
// `metadata`, when given, receives the header's "__metadata__" strings.
std::vector<TensorInfo> readSafetensorsTensors(
    const MappedFile &file, std::vector<std::string> &warnings, std::map<std::string, std::string> *metadata = nullptr);

std::shared_ptr<const ModelHandle> readLlama2c(const std::string &path, const std::string &tokenizerPath);

} // namespace blockscope
