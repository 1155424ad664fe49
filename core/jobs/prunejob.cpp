#include "prunejob.h"

#include "common/contenthash.h"
#include "common/formaterror.h"
#include "common/timestamp.h"
#include "eval/runsetup.h"
#include "jobs/jobcontext.h"
#include "log/logline.h"
#include "model/decoder.h"
#include "model/modelhandle.h"
#include "prune/prunesearch.h"
#include "store/experimentcheck.h"
#include "store/experimentfile.h"
#include "store/experimentlock.h"
#include "text/tokenizer.h"

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

} // namespace

PruneJobReport runPruneJob(const PruneRequest &req, JobContext &job, const StepCallback &onStep)
{
    const auto start = std::chrono::steady_clock::now();
    // A damaged file to add to is refused before any work, and never opened here if it would crash.
    if (!req.experimentPath.empty()) {
        job.stage("checking the experiment file");
        checkExistingExperiment(req.experimentPath);
    }
    // The run's file is this process's to write until the search ends (experimentlock.h).
    std::optional<ExperimentWriteLock> writeLock;
    if (!req.experimentPath.empty())
        writeLock.emplace(req.experimentPath);
    job.stage("opening the model");
    auto model = ModelHandle::open(req.modelPath);
    const Architecture &a = model->architecture();

    Protocol protocol = resolveProtocol(req.protocol, req.context, 0, a.context);
    protocol.dtype = req.dtype;
    protocol.device = req.device;
    const DecoderOptions decoderOptions = decoderOptionsFor(req.device, req.dtype);

    PruneOptions options = req.options;
    // The protocol's own budget when the user gave none (0 from it: every window of the text).
    if (options.calibrationWindows == 0)
        options.calibrationWindows = PruneOptions::calibrationBudget(options.method, req.protocol, protocol.context);

    job.stage("tokenizing");
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
    job.checkpoint();
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
    if (!req.experimentPath.empty()) {
        job.stage("hashing the model");
        modelHash = contentHash(req.modelPath);
        calibrationHash = contentHash(req.calibrationPath);
        if (req.resume && std::filesystem::exists(req.experimentPath)) {
            const Experiment e = ExperimentFile::read(req.experimentPath);
            for (auto it = e.runs.rbegin(); it != e.runs.rend(); ++it) {
                if (it->info.options.method != options.method || it->info.status == "complete")
                    continue;
                if (it->info.modelHash != modelHash)
                    throw UsageError("cannot resume " + it->info.id + " in " + req.experimentPath
                        + ": it was run on a different model (" + it->info.modelPath + ")");
                if (it->info.calibrationHash != calibrationHash)
                    throw UsageError("cannot resume " + it->info.id + " in " + req.experimentPath
                        + ": its calibration text differs (" + it->info.calibrationPath + ")");
                if (resumeKey(it->info.options) != resumeKey(options))
                    throw UsageError("cannot resume " + it->info.id + " in " + req.experimentPath
                        + ": it was run with other options (" + it->info.options.toJson().dump() + ")");
                // The same text can still give other windows (another context or protocol, or a
                // build that cut its pools otherwise): the search would go on with other data.
                const Protocol &was = it->info.calibrationProtocol;
                if (was.context != calibration.protocol.context || was.windows != calibration.protocol.windows
                    || was.tokens != calibration.protocol.tokens
                    || was.reconstruction != calibration.protocol.reconstruction)
                    throw UsageError("cannot resume " + it->info.id + " in " + req.experimentPath
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
                    "no unfinished " + pruneMethodName(options.method) + " run in " + req.experimentPath
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
            report.runId = ExperimentFile::addRun(req.experimentPath, info);
            info.id = report.runId;
        } else {
            ExperimentFile::setStatus(req.experimentPath, report.runId, "running");
        }
    }
    report.resumedSteps = static_cast<int>(resume.size());

    Decoder decoder(model, decoderOptions);
    auto persist = [&](const TraceStep &step) {
        if (!req.experimentPath.empty())
            ExperimentFile::appendStep(req.experimentPath, report.runId, step);
        if (onStep)
            onStep(step);
    };
    if (req.experimentPath.empty()) { // nothing written: describe the run all the same
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
        if (!req.experimentPath.empty())
            ExperimentFile::setDensePerplexity(req.experimentPath, report.runId, perplexity);
        announce();
    };
    auto candidate = [&](const CandidateRecord &c) {
        if (!req.experimentPath.empty())
            ExperimentFile::appendCandidate(req.experimentPath, report.runId, c);
        if (req.onCandidate)
            req.onCandidate(c);
    };
    try {
        report.result = runPruneSearch(decoder, calibration, options.evaluateSteps ? &evaluation : nullptr, options,
            job, persistAndAnnounce, resume, dense, pending, candidate);
    } catch (const JobCancelled &) {
        if (!req.experimentPath.empty())
            ExperimentFile::setStatus(req.experimentPath, report.runId, "cancelled");
        throw;
    } catch (...) {
        if (!req.experimentPath.empty()) {
            try {
                ExperimentFile::setStatus(req.experimentPath, report.runId, "failed");
            } catch (...) {
                // the original error matters more
            }
        }
        throw;
    }
    announce();
    if (!req.experimentPath.empty())
        ExperimentFile::setStatus(req.experimentPath, report.runId, "complete");
    report.resumedCandidates = report.result.recalledCandidates;
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
}

} // namespace blockscope
