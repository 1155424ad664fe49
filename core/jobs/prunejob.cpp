#include "prunejob.h"

#include "common/contenthash.h"
#include "common/device.h"
#include "common/formaterror.h"
#include "common/timestamp.h"
#include "dist/processgroup.h"
#include "dist/rankjob.h"
#include "eval/runsetup.h"
#include "jobs/jobcontext.h"
#include "log/logline.h"
#include "model/decoder.h"
#include "model/modelhandle.h"
#include "prune/prunesearch.h"
#include "store/experimentcheck.h"
#include "store/experimentfile.h"
#include "store/experimentlock.h"
#include "store/stepjson.h"
#include "text/tokenizer.h"

#include <ATen/Parallel.h>
#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <optional>

namespace blockscope {

namespace {

// The options that must match for a run to be resumed (everything but how fast it runs).
nlohmann::json resumeKey(const PruneOptions &o)
{
    nlohmann::json j = o.toJson();
    j.erase("batch");
    j.erase("cached");
    return j;
}

// What rank 0 sends the other ranks once it has read the experiment file: the run a resume
// continues (steps and pending candidates, every double bit for bit), or why it cannot.
struct Continuation
{
    std::string runId;
    std::vector<TraceStep> resume;
    std::vector<CandidateRecord> pending;
    std::string error;
};

std::string continuationText(const Continuation &c)
{
    nlohmann::json j;
    j["run"] = c.runId;
    j["error"] = c.error;
    j["steps"] = nlohmann::json::array();
    for (const TraceStep &s : c.resume)
        j["steps"].push_back(stepjson::step(s, true));
    j["pending"] = nlohmann::json::array();
    for (const CandidateRecord &r : c.pending)
        j["pending"].push_back(stepjson::candidate(r));
    return j.dump();
}

Continuation continuationFrom(const std::string &text)
{
    const nlohmann::json j = nlohmann::json::parse(text);
    Continuation c;
    c.runId = j.at("run").get<std::string>();
    c.error = j.at("error").get<std::string>();
    for (const nlohmann::json &s : j.at("steps"))
        c.resume.push_back(stepjson::parse(s));
    for (const nlohmann::json &r : j.at("pending"))
        c.pending.push_back(stepjson::parseCandidate(r));
    return c;
}

} // namespace

// The job in this process (one rank's share of it, with a group; runPruneJob wraps it).
namespace {

PruneJobReport runPruneJobHere(const PruneRequest &req, JobContext &work, const StepCallback &onStep)
{
    const auto start = std::chrono::steady_clock::now();
    dist::Group *const group = req.group != nullptr && req.group->world() > 1 ? req.group : nullptr;
    const bool root = group == nullptr || group->isRoot();
    // The file is rank 0's alone: the other ranks neither read nor write it.
    const std::string experimentPath = root ? req.experimentPath : std::string();
    // A damaged file to add to is refused before any work, and never opened here if it would crash.
    if (!experimentPath.empty()) {
        work.stage("checking the experiment file");
        checkExistingExperiment(experimentPath);
    }
    // The run's file is this process's to write until the search ends (experimentlock.h).
    std::optional<ExperimentWriteLock> writeLock;
    if (!experimentPath.empty())
        writeLock.emplace(experimentPath);
    if (req.threads > 0)
        at::set_num_threads(req.threads);
    work.stage("opening the model");
    auto model = ModelHandle::open(req.modelPath);
    const Architecture &a = model->architecture();

    Protocol protocol = resolveProtocol(req.protocol, req.context, 0, a.context);
    protocol.dtype = req.dtype;
    protocol.device = req.device;
    DecoderOptions decoderOptions = decoderOptionsFor(req.device, req.dtype);
    // Ranks on one machine take its GPUs in turn (torchrun's LOCAL_RANK).
    if (group != nullptr && decoderOptions.device.is_cuda())
        decoderOptions.device = c10::Device(
            c10::kCUDA, static_cast<c10::DeviceIndex>(group->localRank() % std::max(1, cudaDeviceCount())));

    PruneOptions options = req.options;
    // The protocol's own budget when the user gave none (0 from it: every window of the text).
    if (options.calibrationWindows == 0)
        options.calibrationWindows = PruneOptions::calibrationBudget(options.method, req.protocol, protocol.context);

    work.stage("tokenizing");
    const auto tokenizer = loadTokenizerFor(*model, req.tokenizerPath);
    // One text gives both pools, disjoint; two texts are used whole (textstreams.h).
    const TextPools pools = poolsFor(protocol, req.calibrationPath, req.evaluationPath);
    const WindowSet calibration
        = windowsForText(req.calibrationPath, *tokenizer, protocol, pools.calibration, options.calibrationWindows);
    if (options.calibrationWindows == 0)
        options.calibrationWindows = static_cast<int>(calibration.windows.size());
    WindowSet evaluation;
    if (options.evaluateSteps)
        evaluation = windowsForText(req.evaluationPath.empty() ? req.calibrationPath : req.evaluationPath, *tokenizer,
            protocol, pools.evaluation, req.evaluationWindows);
    work.checkpoint();
    // Options that cannot run on this model are refused before a run is added to the file.
    checkSearchOptions(options, static_cast<int>(a.layers), a.vocab, calibration);

    PruneJobReport report;
    report.calibration = calibration.protocol;
    report.calibration.teacher = options.teacherDescription(searchCalibrationTokens(options, calibration), a.vocab);
    report.evaluation = evaluation.protocol;

    // The experiment file: a new run, or the last unfinished run of this method to continue.
    std::vector<TraceStep> resume;
    std::vector<CandidateRecord> pending;
    std::string modelHash, calibrationHash;
    RunInfo info; // what the run is, for the file and for onRunStarted
    if (!experimentPath.empty() || group != nullptr) {
        work.stage("hashing the model");
        modelHash = contentHash(req.modelPath);
        calibrationHash = contentHash(req.calibrationPath);
    }
    if (group != nullptr) {
        // Ranks that would search different things are refused on every rank, before any work.
        work.stage("checking that the ranks agree");
        group->requireSame("the model's content hash", modelHash);
        group->requireSame("the calibration text's content hash", calibrationHash);
        group->requireSame("the evaluation text's content hash",
            req.evaluationPath.empty() ? std::string("(the calibration text)") : contentHash(req.evaluationPath));
        group->requireSame("the calibration windows",
            calibration.protocol.oneLine() + ", " + std::to_string(calibration.protocol.tokens) + " tokens");
        group->requireSame("the search options", options.toJson().dump());
        group->requireSame("the device and dtype", req.device + " " + req.dtype);
    }
    Continuation continuation;
    try {
        if (!experimentPath.empty()) {
            if (req.resume && std::filesystem::exists(experimentPath)) {
                const Experiment e = ExperimentFile::read(experimentPath);
                for (auto it = e.runs.rbegin(); it != e.runs.rend(); ++it) {
                    if (it->info.options.method != options.method || it->info.status == "complete")
                        continue;
                    if (it->info.modelHash != modelHash)
                        throw UsageError("cannot resume " + it->info.id + " in " + experimentPath
                            + ": it was run on a different model (" + it->info.modelPath + ")");
                    if (it->info.calibrationHash != calibrationHash)
                        throw UsageError("cannot resume " + it->info.id + " in " + experimentPath
                            + ": its calibration text differs (" + it->info.calibrationPath + ")");
                    if (resumeKey(it->info.options) != resumeKey(options))
                        throw UsageError("cannot resume " + it->info.id + " in " + experimentPath
                            + ": it was run with other options (" + it->info.options.toJson().dump() + ")");
                    // The same text can still give other windows (another context or protocol, or a
                    // build that cut its pools otherwise): the search would go on with other data.
                    const Protocol &was = it->info.calibrationProtocol;
                    if (was.context != calibration.protocol.context || was.windows != calibration.protocol.windows
                        || was.tokens != calibration.protocol.tokens
                        || was.reconstruction != calibration.protocol.reconstruction)
                        throw UsageError("cannot resume " + it->info.id + " in " + experimentPath
                            + ": its calibration windows differ (recorded: " + was.oneLine() + ", "
                            + std::to_string(was.tokens) + " tokens; now: " + calibration.protocol.oneLine() + ", "
                            + std::to_string(calibration.protocol.tokens) + " tokens)");
                    report.runId = it->info.id;
                    info = it->info;
                    resume = it->steps;
                    pending = it->pending;
                    break;
                }
                if (report.runId.empty())
                    log::line(log::Subsystem::Prune, log::Level::Info,
                        "no unfinished " + pruneMethodName(options.method) + " run in " + experimentPath
                            + "; starting a new one");
            }
            if (report.runId.empty()) {
                info.label = req.label;
                info.options = options;
                info.layers = static_cast<int>(a.layers);
                info.modelPath = std::filesystem::absolute(req.modelPath).string();
                info.modelHash = modelHash;
                info.calibrationPath = std::filesystem::absolute(req.calibrationPath).string();
                info.calibrationHash = calibrationHash;
                info.calibrationProtocol = report.calibration;
                if (options.evaluateSteps)
                    info.evaluationProtocol = evaluation.protocol;
                info.started = utcTimestamp();
                info.status = "running";
                info.blockscopeVersion = BLOCKSCOPE_VERSION;
                report.runId = ExperimentFile::addRun(experimentPath, info);
                info.id = report.runId;
            } else {
                ExperimentFile::setStatus(experimentPath, report.runId, "running");
            }
        }
    } catch (const std::exception &e) {
        // The other ranks wait for what rank 0 read: they stop with its error.
        if (group != nullptr)
            group->broadcast(continuationText({{}, {}, {}, e.what()}));
        throw;
    }
    if (group != nullptr) {
        continuation = continuationFrom(group->broadcast(continuationText({report.runId, resume, pending, {}})));
        if (!continuation.error.empty())
            throw UsageError("rank 0: " + continuation.error);
        if (!root) {
            report.runId = info.id = continuation.runId;
            resume = std::move(continuation.resume);
            pending = std::move(continuation.pending);
        }
    }
    report.resumedSteps = static_cast<int>(resume.size());

    Decoder decoder(model, decoderOptions);
    auto persist = [&](const TraceStep &step) {
        if (!experimentPath.empty())
            ExperimentFile::appendStep(experimentPath, report.runId, step);
        if (onStep)
            onStep(step);
    };
    if (experimentPath.empty()) { // nothing written: describe the run all the same
        info.label = req.label;
        info.options = options;
        info.layers = static_cast<int>(a.layers);
        info.modelPath = req.modelPath;
        info.calibrationPath = req.calibrationPath;
        info.calibrationProtocol = report.calibration;
        if (options.evaluateSteps)
            info.evaluationProtocol = evaluation.protocol;
    }
    info.status = "running";
    bool started = false;
    auto announce = [&] {
        if (!started && req.onRunStarted)
            req.onRunStarted(info);
        started = true;
    };
    auto persistAndAnnounce = [&](const TraceStep &step) {
        announce(); // a search without evaluation windows has no dense callback
        persist(step);
    };
    // The dense perplexity goes into the file before step 0, so an interrupted run keeps it too.
    auto dense = [&](double perplexity) {
        info.densePerplexity = perplexity;
        if (!experimentPath.empty())
            ExperimentFile::setDensePerplexity(experimentPath, report.runId, perplexity);
        announce();
    };
    auto candidate = [&](const CandidateRecord &c) {
        if (!experimentPath.empty())
            ExperimentFile::appendCandidate(experimentPath, report.runId, c);
        if (req.onCandidate)
            req.onCandidate(c);
    };
    try {
        report.result = runPruneSearch(decoder, calibration, options.evaluateSteps ? &evaluation : nullptr, options,
            work, persistAndAnnounce, resume, dense, pending, candidate, group);
    } catch (const JobCancelled &) {
        if (!experimentPath.empty()) // a lost rank's stop is a failure (runPruneJob says which rank)
            ExperimentFile::setStatus(
                experimentPath, report.runId, group != nullptr && group->lost() ? "failed" : "cancelled");
        throw;
    } catch (...) {
        if (!experimentPath.empty()) {
            try {
                ExperimentFile::setStatus(experimentPath, report.runId, "failed");
            } catch (...) {
                // the original error matters more
            }
        }
        throw;
    }
    announce();
    if (!experimentPath.empty())
        ExperimentFile::setStatus(experimentPath, report.runId, "complete");
    report.resumedCandidates = report.result.recalledCandidates;
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
}

} // namespace

nlohmann::json pruneRequestJson(const PruneRequest &r)
{
    return {{"model", r.modelPath}, {"calibration", r.calibrationPath}, {"evaluation", r.evaluationPath},
        {"tokenizer", r.tokenizerPath}, {"protocol", r.protocol}, {"context", r.context},
        {"evaluation_windows", r.evaluationWindows}, {"device", r.device}, {"dtype", r.dtype}, {"threads", r.threads},
        {"options", r.options.toJson()}, {"experiment", r.experimentPath}, {"resume", r.resume}, {"label", r.label}};
}

PruneRequest pruneRequestFrom(const nlohmann::json &j)
{
    PruneRequest r;
    const auto field = [&](const char *name, auto &into) {
        try {
            into = j.at(name).get<std::remove_reference_t<decltype(into)>>();
        } catch (const nlohmann::json::exception &) {
            throw UsageError(std::string("the prune request's \"") + name + "\" is missing or of the wrong type");
        }
    };
    field("model", r.modelPath);
    field("calibration", r.calibrationPath);
    field("evaluation", r.evaluationPath);
    field("tokenizer", r.tokenizerPath);
    field("protocol", r.protocol);
    field("context", r.context);
    field("evaluation_windows", r.evaluationWindows);
    field("device", r.device);
    field("dtype", r.dtype);
    field("threads", r.threads);
    field("experiment", r.experimentPath);
    field("resume", r.resume);
    field("label", r.label);
    if (!j.contains("options"))
        throw UsageError("the prune request has no \"options\"");
    r.options = PruneOptions::fromJson(j.at("options"));
    return r;
}

PruneJobReport runPruneJob(const PruneRequest &req, JobContext &job, const StepCallback &onStep)
{
    return dist::runAsRank(req.group, job, [&](JobContext &work) { return runPruneJobHere(req, work, onStep); });
}

} // namespace blockscope
