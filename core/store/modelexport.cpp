#include "modelexport.h"

#include "common/atomicfile.h"

#include "common/contenthash.h"
#include "common/formaterror.h"
#include "experimentfile.h"
#include "exportplan.h"
#include "model/checkpointexport.h"
#include "model/checkpointreaders.h"
#include "model/ggmlquants.h"
#include "model/ggufmetadata.h"
#include "model/modelhandle.h"
#include "model/safetensorswriter.h"
#include "model/tensornames.h"
#include "model/tensorvalues.h"
#include "text/ggufvocab.h"
#include "text/sentencepiecetokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>

namespace blockscope {

namespace fs = std::filesystem;

namespace {

std::optional<DType> exportDtype(const std::string &name)
{
    if (name.empty())
        return std::nullopt;
    if (name == "float32")
        return DType::F32;
    if (name == "float16")
        return DType::F16;
    if (name == "bfloat16")
        return DType::BF16;
    throw UsageError("export dtype \"" + name + "\" is not float32, float16 or bfloat16");
}

std::string torchDtypeName(DType t)
{
    switch (t) {
    case DType::F16: return "float16";
    case DType::BF16: return "bfloat16";
    default: return "float32";
    }
}

// One tensor of the export: where its values come from and what happens to them on the way.
struct Planned
{
    const TensorInfo *source = nullptr;
    std::string name; // in the export (layers renumbered)
    DType dtype = DType::F32;
    bool zero = false;
    bool permute = false; // interleaved q/k rows to rotate_half order
    std::int64_t permuteHeads = 0;
    std::uint64_t bytes = 0;
};

// The tensor's values in the export's dtype, zeroed or permuted as planned.
std::vector<std::byte> materialise(const ModelHandle &model, const Planned &p, std::int64_t headDim)
{
    const TensorInfo &t = *p.source;
    const std::uint64_t n = t.elementCount();
    std::vector<std::byte> out(p.bytes);
    if (p.zero)
        return out; // +0.0 in every float format is all zero bits
    const auto raw = model.data(t);
    if (t.dtype == p.dtype) {
        std::memcpy(out.data(), raw.data(), out.size());
    } else {
        const std::vector<float> values = readAllAsFloat32(t.dtype, raw, n);
        if (p.dtype == DType::F32) {
            std::memcpy(out.data(), values.data(), out.size());
        } else {
            auto *dst = reinterpret_cast<std::uint16_t *>(out.data());
            for (std::uint64_t i = 0; i < n; ++i)
                dst[i] = p.dtype == DType::F16 ? floatToHalf(values[i]) : floatToBfloat16(values[i]);
        }
    }
    if (p.permute) {
        std::vector<std::byte> permuted(out.size());
        permuteInterleavedToHalf(out.data(), permuted.data(), p.permuteHeads, headDim,
            out.size() / static_cast<std::size_t>(p.permuteHeads * headDim));
        return permuted;
    }
    return out;
}

void writeText(const fs::path &path, const std::string &text)
{
    writeFileAtomically(path.string(), text);
}

// Removes the hidden working folder unless the export reached the end.
class WorkFolder
{
public:
    explicit WorkFolder(fs::path path)
        : m_path(std::move(path))
    {
    }
    ~WorkFolder()
    {
        if (!m_kept) {
            std::error_code ec;
            fs::remove_all(m_path, ec);
        }
    }
    WorkFolder(const WorkFolder &) = delete;
    WorkFolder &operator=(const WorkFolder &) = delete;
    const fs::path &path() const { return m_path; }
    void keep() { m_kept = true; }

private:
    fs::path m_path;
    bool m_kept = false;
};

bool isEmptyFolder(const fs::path &p)
{
    return fs::is_directory(p) && fs::directory_iterator(p) == fs::directory_iterator();
}

// Tokenizer files: a Hugging Face folder's own; tokenizer.json (and a config) built from a GGUF
// "gpt2" vocabulary or from a SentencePiece tokenizer.model.
void writeTokenizer(const ModelHandle &model, const fs::path &work, HfExportResult &r)
{
    const fs::path source(model.path());
    if (model.format() == CheckpointFormat::HuggingFace && fs::is_directory(source)) {
        for (const char *name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                 "tokenizer.model", "vocab.json", "merges.txt", "added_tokens.json", "chat_template.jinja"})
            if (fs::is_regular_file(source / name)) {
                fs::copy_file(source / name, work / name);
                r.files.emplace_back(name);
            }
        if (!fs::exists(work / "tokenizer.json") && fs::exists(work / "tokenizer.model")) {
            // transformers reads tokenizer.json without the sentencepiece package.
            const auto sp = SentencePieceTokenizer::load((source / "tokenizer.model").string());
            writeText(work / "tokenizer.json", sentencePieceToTokenizerJson(*sp).dump(2) + "\n");
            r.files.emplace_back("tokenizer.json");
            if (!fs::exists(work / "tokenizer_config.json")) {
                nlohmann::ordered_json c;
                c["tokenizer_class"] = "PreTrainedTokenizerFast";
                for (const auto &[key, id] : {std::pair{"bos_token", sp->bosId()}, std::pair{"eos_token", sp->eosId()},
                         std::pair{"unk_token", sp->unkId()}})
                    c[key] = id ? nlohmann::ordered_json(sp->piece(*id)) : nlohmann::ordered_json();
                c["clean_up_tokenization_spaces"] = false;
                writeText(work / "tokenizer_config.json", c.dump(2) + "\n");
                r.files.emplace_back("tokenizer_config.json");
            }
        }
        if (!fs::exists(work / "tokenizer.json") && !fs::exists(work / "vocab.json"))
            r.notes.push_back("no tokenizer files: " + source.string() + " has none that transformers reads");
        return;
    }
    if (model.format() == CheckpointFormat::Gguf) {
        if (const auto files = ggufHfTokenizerFiles(readGgufMetadata(model.path()), model.path())) {
            writeText(work / "tokenizer.json", files->tokenizerJson);
            writeText(work / "tokenizer_config.json", files->tokenizerConfigJson);
            r.files.emplace_back("tokenizer.json");
            r.files.emplace_back("tokenizer_config.json");
            return;
        }
        r.notes.push_back("no tokenizer files: the GGUF's tokenizer model has no tokenizer.json form written here; "
                          "copy the original model's tokenizer files beside it");
        return;
    }
    r.notes.push_back("no tokenizer files: a " + formatName(model.format())
        + " checkpoint's tokenizer has no Hugging Face form written here; copy the original model's tokenizer files");
}

std::string generationConfig(const ModelHandle &model, const Architecture &a)
{
    const fs::path own = fs::path(model.path()) / "generation_config.json";
    if (model.format() == CheckpointFormat::HuggingFace && fs::is_regular_file(own)) {
        std::ifstream f(own, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(f), {});
    }
    nlohmann::ordered_json g;
    g["_from_model_config"] = true;
    if (!a.bosTokenIds.empty())
        g["bos_token_id"] = a.bosTokenIds.front();
    if (!a.eosTokenIds.empty())
        g["eos_token_id"] = a.eosTokenIds.size() == 1 ? nlohmann::ordered_json(a.eosTokenIds.front())
                                                      : nlohmann::ordered_json(a.eosTokenIds);
    return g.dump(2) + "\n";
}

nlohmann::ordered_json indices(const std::vector<bool> &flags)
{
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < flags.size(); ++i)
        if (flags[i])
            out.push_back(i);
    return out;
}

// Moves the finished working folder to `dest`, replacing what is there only now.
void publish(const fs::path &work, const fs::path &dest)
{
    std::error_code ec;
    if (!fs::exists(dest)) {
        fs::rename(work, dest);
        return;
    }
    const fs::path old = dest.parent_path() / ("." + dest.filename().string() + ".old-" + std::to_string(::getpid()));
    fs::remove_all(old, ec);
    fs::rename(dest, old);
    try {
        fs::rename(work, dest);
    } catch (...) {
        fs::rename(old, dest, ec); // put the user's folder back
        throw;
    }
    fs::remove_all(old, ec);
}

} // namespace

HfExportResult exportHuggingFace(const std::shared_ptr<const ModelHandle> &model, const UnitMask &mask,
    const std::string &folder, const HfExportOptions &options)
{
    const Architecture &a = model->architecture();
    if (!model->architectureComplete())
        throw UsageError(model->path()
            + ": the number of attention heads is unknown (a bare .safetensors without "
              "config.json); export the Hugging Face folder it came from instead");
    if (mask.layers() != a.layers)
        throw UsageError("the configuration has " + std::to_string(mask.layers()) + " blocks, " + model->path()
            + " has " + std::to_string(a.layers));
    const std::optional<DType> convert = exportDtype(options.dtype);
    if (folder.empty())
        throw UsageError("no output folder given");
    const fs::path dest = fs::absolute(fs::path(folder)).lexically_normal();
    if (fs::exists(dest) && !fs::is_directory(dest))
        throw UsageError(dest.string() + " exists and is not a folder");
    if (fs::exists(dest) && !isEmptyFolder(dest) && !options.force)
        throw UsageError(dest.string() + " is not empty; give --force to replace it");
    if (dest.filename().empty() || dest == dest.root_path())
        throw UsageError("cannot export into " + dest.string());
    for (fs::path up = dest.parent_path(); !up.empty(); up = up.parent_path()) {
        if (fs::exists(up)) {
            if (!fs::is_directory(up))
                throw UsageError("cannot export into " + dest.string() + ": " + up.string() + " is not a folder");
            break;
        }
        if (up == up.root_path())
            break;
    }

    HfExportResult r;
    r.folder = dest.string();
    const exportplan::Renumbering layers(mask);
    r.blockMap = layers.blockMap;
    r.keptBlocks = static_cast<int>(r.blockMap.size());
    const std::vector<int> &newIndex = layers.newIndex;

    // The plan: every tensor's exported name, dtype and treatment, checked before anything is written.
    std::vector<Planned> plan;
    std::set<DType> dtypes;
    for (const TensorInfo &t : model->tensors()) {
        if (t.role == TensorRole::Other)
            continue;
        if (!t.loadable)
            throw UsageError(model->path() + ": tensor " + t.sourceName + " is stored as " + t.storageType
                + ", which Blockscope cannot dequantise, so it cannot be exported");
        const auto name = layers.rename(t);
        if (!name)
            continue; // the whole block is removed
        Planned p;
        p.source = &t;
        p.name = *name;
        p.zero = exportplan::zeroedProjection(t, mask);
        if (p.zero)
            r.zeroed.push_back(p.name);
        const bool plain = t.dtype == DType::F32 || t.dtype == DType::F16 || t.dtype == DType::BF16;
        p.dtype = convert ? *convert : plain ? t.dtype : DType::F32;
        p.permuteHeads = exportplan::ropeRowHeads(t.name, a.heads, a.kvHeads);
        p.permute = a.ropeLayout == RopeLayout::Interleaved && p.permuteHeads > 0;
        p.bytes = t.elementCount() * *dtypeElementSize(p.dtype);
        dtypes.insert(p.dtype);
        r.weightBytes += p.bytes;
        plan.push_back(std::move(p));
    }
    if (convert)
        r.notes.push_back("weights converted to " + options.dtype);
    else if (std::any_of(model->tensors().begin(), model->tensors().end(),
                 [](const TensorInfo &t) { return t.role != TensorRole::Other && dtypeIsBlockQuantised(t.dtype); }))
        r.notes.push_back("quantised tensors written dequantised, as float32");
    for (int l = 0; l < a.layers; ++l) {
        const auto i = static_cast<std::size_t>(l);
        if (mask.blockSkipped(l))
            continue;
        if (mask.skipAttn[i])
            r.notes.push_back("block " + std::to_string(l) + " (layer " + std::to_string(newIndex[i])
                + " here): attention removed, its o_proj zeroed, so it adds nothing to the residual stream");
        if (mask.skipMlp[i])
            r.notes.push_back("block " + std::to_string(l) + " (layer " + std::to_string(newIndex[i])
                + " here): MLP removed, its down_proj zeroed, so it adds nothing to the residual stream");
    }

    fs::create_directories(dest.parent_path());
    WorkFolder work(dest.parent_path() / ("." + dest.filename().string() + ".partial-" + std::to_string(::getpid())));
    std::error_code ec;
    fs::remove_all(work.path(), ec);
    if (!fs::create_directory(work.path(), ec) || ec)
        throw IoError("cannot create " + work.path().string() + ": " + ec.message());

    // Shards in the checkpoint's tensor order; each tensor is materialised only while it is written.
    std::vector<std::vector<const Planned *>> shards(1);
    std::uint64_t inShard = 0;
    for (const Planned &p : plan) {
        if (inShard > 0 && inShard + p.bytes > options.shardBytes) {
            shards.emplace_back();
            inShard = 0;
        }
        shards.back().push_back(&p);
        inShard += p.bytes;
    }
    nlohmann::ordered_json weightMap = nlohmann::ordered_json::object();
    for (std::size_t s = 0; s < shards.size(); ++s) {
        char name[64];
        std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
        const std::string file = shards.size() == 1 ? "model.safetensors" : name;
        // One tensor in memory at a time, however large the shard.
        std::vector<SafetensorsSource> sources;
        for (const Planned *p : shards[s]) {
            sources.push_back({p->name, p->dtype, p->source->shape, p->bytes, [&model, p, &a](std::ostream &out) {
                                   const std::vector<std::byte> bytes = materialise(*model, *p, a.headDim);
                                   out.write(reinterpret_cast<const char *>(bytes.data()),
                                       static_cast<std::streamsize>(bytes.size()));
                               }});
            weightMap[p->name] = file;
        }
        writeSafetensorsStreamed((work.path() / file).string(), std::move(sources));
        r.files.push_back(file);
    }
    if (shards.size() > 1) {
        nlohmann::ordered_json index;
        index["metadata"] = {{"total_size", r.weightBytes}};
        index["weight_map"] = weightMap;
        writeText(work.path() / "model.safetensors.index.json", index.dump(2) + "\n");
        r.files.emplace_back("model.safetensors.index.json");
    }

    Architecture out = a;
    out.layers = r.keptBlocks;
    out.ropeLayout = RopeLayout::RotateHalf;
    writeText(work.path() / "config.json",
        hfConfigJson(out, dtypes.size() == 1 ? torchDtypeName(*dtypes.begin()) : "float32"));
    r.files.emplace_back("config.json");
    writeText(work.path() / "generation_config.json", generationConfig(*model, a));
    r.files.emplace_back("generation_config.json");
    writeTokenizer(*model, work.path(), r);

    nlohmann::ordered_json record;
    record["format"] = "blockscope-export";
    record["version"] = 1;
    if (!options.recordJson.empty())
        record["source"] = nlohmann::ordered_json::parse(options.recordJson);
    record["model"] = {{"path", model->path()}, {"format", formatName(model->format())}, {"blocks", a.layers}};
    record["configuration"] = {{"mask", mask.describe()}, {"removed_blocks", nlohmann::ordered_json::array()},
        {"removed_attention", indices(mask.skipAttn)}, {"removed_mlp", indices(mask.skipMlp)}};
    for (int l = 0; l < a.layers; ++l)
        if (mask.blockSkipped(l))
            record["configuration"]["removed_blocks"].push_back(l);
    record["kept_blocks"] = r.blockMap;
    record["zeroed"] = r.zeroed;
    record["dtype"] = convert ? options.dtype : std::string("kept (quantised: float32)");
    record["notes"] = r.notes;
    nlohmann::ordered_json hashes = nlohmann::ordered_json::object();
    for (const std::string &f : r.files)
        hashes[f] = contentHash((work.path() / f).string());
    record["hashes"] = hashes;
    writeText(work.path() / "blockscope.json", record.dump(2) + "\n");
    r.files.emplace_back("blockscope.json");

    publish(work.path(), dest);
    work.keep();
    return r;
}

ExportSelection selectForExport(const std::string &experimentPath, const Experiment &e, const ExportPick &pick)
{
    if (e.runs.empty())
        throw UsageError(experimentPath + " holds no runs");
    std::string ids;
    for (const auto &r : e.runs)
        ids += (ids.empty() ? "" : ", ") + r.info.id;
    const ExperimentRun *run = nullptr;
    if (pick.runId.empty()) {
        if (e.runs.size() > 1)
            throw UsageError(
                experimentPath + " holds " + std::to_string(e.runs.size()) + " runs (" + ids + "); give --run");
        run = &e.runs.front();
    } else {
        run = e.find(pick.runId);
        if (!run)
            throw UsageError(experimentPath + " has no run " + pick.runId + " (it has " + ids + ")");
    }
    const RunInfo &info = run->info;
    const std::string method = pruneMethodName(info.options.method);
    nlohmann::ordered_json rec;
    rec["experiment"]
        = {{"path", fs::absolute(experimentPath).lexically_normal().string()}, {"hash", contentHash(experimentPath)}};
    rec["run"] = {{"id", info.id}, {"label", info.label}, {"method", method}, {"status", info.status},
        {"started", info.started}, {"blockscope_version", info.blockscopeVersion}};
    rec["calibration"] = {{"path", info.calibrationPath}, {"hash", info.calibrationHash},
        {"protocol", info.calibrationProtocol.toJson()}};
    if (info.evaluationProtocol)
        rec["evaluation_protocol"] = info.evaluationProtocol->toJson();

    ExportSelection out;
    out.modelPath = pick.modelOverride.empty() ? info.modelPath : pick.modelOverride;
    std::string what;
    if (pick.whatIf) {
        if (pick.whatIf->layers() != info.layers)
            throw UsageError("the configuration has " + std::to_string(pick.whatIf->layers()) + " blocks, run "
                + info.id + " " + std::to_string(info.layers));
        out.mask = *pick.whatIf;
        what = "what-if";
        rec["what_if"] = true;
    } else if (!pick.point.empty()) {
        std::string labels;
        for (const auto &p : run->ppa) {
            labels += (labels.empty() ? "" : ", ") + p.label;
            if (p.label == pick.point && !out.mask.layers())
                out.mask = p.mask.layers() ? p.mask : UnitMask::dense(info.layers);
        }
        if (!out.mask.layers())
            throw UsageError("run " + info.id + " has no PPA point \"" + pick.point + "\""
                + (labels.empty() ? std::string(" (it has no PPA points)") : " (it has " + labels + ")"));
        what = "point " + pick.point;
        rec["point"] = pick.point;
    } else {
        if (run->steps.empty())
            throw UsageError("run " + info.id + " in " + experimentPath + " has no steps yet");
        const TraceStep *step = &run->steps.back();
        if (pick.step) {
            step = nullptr;
            for (const auto &s : run->steps)
                if (s.index == *pick.step)
                    step = &s;
            if (!step)
                throw UsageError("run " + info.id + " has no step " + std::to_string(*pick.step) + " (steps "
                    + std::to_string(run->steps.front().index) + " to " + std::to_string(run->steps.back().index)
                    + ")");
        }
        out.mask = step->mask;
        what = "step " + std::to_string(step->index);
        rec["step"] = {{"index", step->index}, {"kind", step->kind}, {"perplexity", step->perplexity},
            {"kl_to_dense", step->klToDense}};
    }
    if (out.mask.layers() != info.layers)
        throw UsageError(experimentPath + ": the configuration of run " + info.id + " has "
            + std::to_string(out.mask.layers()) + " blocks, the run " + std::to_string(info.layers));
    const std::string hash = contentHash(out.modelPath);
    if (pick.checkModelHash && !info.modelHash.empty() && hash != info.modelHash)
        throw UsageError(out.modelPath + " is not the checkpoint run " + info.id + " searched (content hash " + hash
            + ", the run's " + info.modelHash + "); give --model with that checkpoint");
    rec["model"] = {{"path", out.modelPath}, {"hash", hash}, {"run_hash", info.modelHash}};
    out.description = info.id + " (" + method + "), " + what + ": " + out.mask.describe();
    out.recordJson = rec.dump();
    return out;
}

} // namespace blockscope
