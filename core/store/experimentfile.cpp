// The experiment file's HDF5 layout (README, "Experiment file format"); writes go through
// experimenttransaction.
#include "experimentfile.h"
#include "numberednames.h"

#include "common/formaterror.h"
#include "experimentjournal.h"
#include "experimentlock.h"
#include "experimentppa.h"
#include "experimentsteps.h"
#include "experimentsweeps.h"
#include "experimenttransaction.h"
#include "h5handles.h"
#include "log/logging.h"
#include "stepjson.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>

namespace blockscope {

namespace {

namespace fs = std::filesystem;
using h5::Location;
using h5tx::checkRoot;
using h5tx::fileAccess;
using h5tx::ioMutex;
using h5tx::quietHdf5;
using h5tx::transaction;
using stepstore::checkStep;
using stepstore::readStep;
using stepstore::stepName;
using stepstore::stepNumber;
using stepstore::writeStep;

const std::set<std::string> statuses = {"running", "complete", "cancelled", "failed"};

std::string runName(int number)
{
    return h5::numberedName("run-", number, 4);
}

// "run-0012" -> 12; -1 when the name is not a run id.
int runNumber(const std::string &name)
{
    return h5::nameNumber(name, "run-", 4);
}

void writeInfo(const Location &at, const RunInfo &info)
{
    h5::writeAttribute(at, "label", info.label);
    h5::writeAttribute(at, "method", pruneMethodName(info.options.method));
    h5::writeAttribute(at, "options_json", info.options.toJson().dump());
    h5::writeAttribute(at, "layers", std::int32_t(info.layers));
    h5::writeAttribute(at, "model_path", info.modelPath);
    h5::writeAttribute(at, "model_hash", info.modelHash);
    h5::writeAttribute(at, "calibration_path", info.calibrationPath);
    h5::writeAttribute(at, "calibration_hash", info.calibrationHash);
    h5::writeAttribute(at, "calibration_protocol_json", info.calibrationProtocol.toJson().dump());
    if (info.evaluationProtocol)
        h5::writeAttribute(at, "evaluation_protocol_json", info.evaluationProtocol->toJson().dump());
    h5::writeAttribute(at, "dense_perplexity", info.densePerplexity);
    h5::writeAttribute(at, "started", info.started);
    h5::writeAttribute(at, "status", info.status);
    h5::writeAttribute(at, "blockscope_version", info.blockscopeVersion);
}

template<class Parse>
auto parseJsonAttribute(const Location &at, const std::string &name, Parse parse)
{
    const std::string text = h5::readStringAttribute(at, name);
    try {
        return parse(nlohmann::json::parse(text));
    } catch (const std::exception &e) {
        at.fail(at.path + "@" + name, e.what(), false);
    }
}

RunInfo readInfo(const Location &at, const std::string &id)
{
    RunInfo info;
    info.id = id;
    info.label = h5::readStringAttribute(at, "label");
    info.options = parseJsonAttribute(at, "options_json", [](const nlohmann::json &j) {
        // Runs written before the teacher options existed kept float32 logits.
        if (j.is_object() && !j.contains("teacher")) {
            nlohmann::json old = j;
            old["teacher"] = "float32";
            return PruneOptions::fromJson(old);
        }
        return PruneOptions::fromJson(j);
    });
    const std::string method = h5::readStringAttribute(at, "method");
    if (method != pruneMethodName(info.options.method))
        at.fail(at.path + "@method",
            "\"" + method + "\" disagrees with options_json (\"" + pruneMethodName(info.options.method) + "\")", false);
    info.layers = h5::readAttribute<std::int32_t>(at, "layers");
    if (info.layers < 1)
        at.fail(at.path + "@layers", "must be >= 1, got " + std::to_string(info.layers), false);
    info.modelPath = h5::readStringAttribute(at, "model_path");
    info.modelHash = h5::readStringAttribute(at, "model_hash");
    info.calibrationPath = h5::readStringAttribute(at, "calibration_path");
    info.calibrationHash = h5::readStringAttribute(at, "calibration_hash");
    const auto protocol = [](const nlohmann::json &j) { return Protocol::fromJson(j); };
    info.calibrationProtocol = parseJsonAttribute(at, "calibration_protocol_json", protocol);
    if (at.hasAttribute("evaluation_protocol_json"))
        info.evaluationProtocol = parseJsonAttribute(at, "evaluation_protocol_json", protocol);
    info.densePerplexity = h5::readAttribute<double>(at, "dense_perplexity");
    info.started = h5::readStringAttribute(at, "started");
    info.status = h5::readStringAttribute(at, "status");
    info.blockscopeVersion = h5::readStringAttribute(at, "blockscope_version");
    return info;
}

ExperimentRun readRun(const Location &runs, const std::string &id)
{
    const h5::Group g = runs.openGroup(id);
    const Location at = runs.at(g, id);
    ExperimentRun run;
    run.info = readInfo(at, id);
    const h5::Group stepsGroup = at.openGroup("steps");
    const Location steps = at.at(stepsGroup, "steps");
    for (const auto &name : steps.children()) {
        const int number = stepNumber(name);
        if (number < 0)
            steps.fail(steps.child(name), "is not a step (expected a six-digit step index)", false);
        const h5::Group s = steps.openGroup(name);
        run.steps.push_back(readStep(steps.at(s, name), run.info.layers));
        if (run.steps.back().index != number)
            steps.fail(steps.child(name) + "@index",
                "is " + std::to_string(run.steps.back().index) + ", the group name says " + std::to_string(number),
                false);
    }
    std::sort(run.steps.begin(), run.steps.end(), [](const auto &a, const auto &b) { return a.index < b.index; });
    run.ppa = ppastore::readPoints(at, run.info.layers);
    return run;
}

// One journal record, read: a step, or a candidate of a step not finished yet.
struct JournalEntry
{
    bool isStep = false;
    TraceStep step;
    CandidateRecord candidate;
};

FormatError journalError(const std::string &experiment, std::uint64_t offset, const std::string &what)
{
    return FormatError(journal::pathFor(experiment), offset, "", what);
}

JournalEntry parseRecord(const journal::Record &r, std::uint64_t offset, int layers, const std::string &experiment)
{
    JournalEntry e;
    try {
        const std::string type = r.body.value("type", std::string());
        if (type == "step") {
            if (!r.body.contains("step"))
                throw std::invalid_argument("step: missing");
            e.isStep = true;
            e.step = stepjson::parse(r.body["step"]);
            checkStep(e.step, layers, "run \"" + r.run + "\"");
            return e;
        }
        if (type != "candidate")
            throw std::invalid_argument("type: \"" + type + "\" is neither \"step\" nor \"candidate\"");
        e.candidate = stepjson::parseCandidate(r.body);
    } catch (const std::invalid_argument &err) {
        throw journalError(experiment, offset, "run \"" + r.run + "\": " + err.what());
    } catch (const UsageError &err) {
        throw journalError(experiment, offset, err.what());
    }
    return e;
}

void warnDamage(const journal::Contents &j, const std::string &experiment)
{
    if (!j.damage.empty())
        log::logger(log::Subsystem::Store)
            ->warn("{}: {}; the records before it are used", journal::pathFor(experiment), j.damage);
}

// One transaction that changes /runs/<id> (or says there is no such run).
void changeRun(const std::string &path, const std::string &runId, const std::function<void(const Location &)> &change)
{
    const std::lock_guard lock(ioMutex());
    quietHdf5();
    transaction(path, nullptr, [&](const Location &root) {
        const h5::Group runs = root.openGroup("runs");
        const Location runsAt = root.at(runs, "runs");
        if (runNumber(runId) < 0 || !runsAt.hasLink(runId))
            throw UsageError(*root.file + ": no run \"" + runId + "\"");
        const h5::Group run = runsAt.openGroup(runId);
        change(runsAt.at(run, runId));
    });
}

} // namespace

const ExperimentRun *Experiment::find(const std::string &runId) const
{
    for (const auto &r : runs)
        if (r.info.id == runId)
            return &r;
    return nullptr;
}

const SweepRecord *Experiment::findSweep(const std::string &sweepId) const
{
    for (const auto &s : sweeps)
        if (s.id == sweepId)
            return &s;
    return nullptr;
}

std::vector<journal::Record> h5tx::foldJournal(const Location &root, const journal::Contents &j)
{
    if (j.records.empty())
        return {};
    const std::string &path = *root.file;
    warnDamage(j, path);
    const h5::Group runsGroup = root.openGroup("runs");
    const Location runs = root.at(runsGroup, "runs");
    struct RunState
    {
        bool matches = false;
        int layers = 0;
        int steps = 0;
    };
    std::map<std::string, RunState> state;
    auto stateOf = [&](const journal::Record &r) -> RunState & {
        auto it = state.find(r.run);
        if (it != state.end())
            return it->second;
        RunState s;
        if (runNumber(r.run) >= 0 && runs.hasLink(r.run)) {
            const h5::Group g = runs.openGroup(r.run);
            const Location at = runs.at(g, r.run);
            s.matches = h5::readStringAttribute(at, "started") == r.started;
            s.layers = h5::readAttribute<std::int32_t>(at, "layers");
            const h5::Group stepsGroup = at.openGroup("steps");
            s.steps = static_cast<int>(at.at(stepsGroup, "steps").children().size());
        }
        return state.emplace(r.run, s).first->second;
    };
    std::vector<std::pair<const journal::Record *, int>> candidates; // record, its step
    for (std::size_t i = 0; i < j.records.size(); ++i) {
        const journal::Record &r = j.records[i];
        RunState &s = stateOf(r);
        if (!s.matches)
            continue; // a journal left by another file of the same name
        const JournalEntry e = parseRecord(r, j.offsets[i], s.layers, path);
        if (!e.isStep) {
            candidates.emplace_back(&r, e.candidate.step);
            continue;
        }
        if (e.step.index < s.steps)
            continue; // folded before
        if (e.step.index > s.steps) {
            log::logger(log::Subsystem::Store)
                ->warn("{}: run {} has no step {}; its step {} is dropped", journal::pathFor(path), r.run, s.steps,
                    e.step.index);
            continue;
        }
        const h5::Group runGroup = runs.openGroup(r.run);
        const Location at = runs.at(runGroup, r.run);
        const h5::Group stepsGroup = at.openGroup("steps");
        const Location steps = at.at(stepsGroup, "steps");
        const std::string name = stepName(e.step.index);
        const h5::Group g = steps.createGroup(name);
        writeStep(steps.at(g, name), e.step, s.layers);
        ++s.steps;
    }
    std::vector<journal::Record> keep;
    for (const auto &[r, step] : candidates)
        if (step == state[r->run].steps)
            keep.push_back(*r);
    return keep;
}

namespace {

// Adds the journal's steps and pending candidates to the runs read from the HDF5 file.
void mergeJournal(Experiment &e, const journal::Contents &j, const std::string &path)
{
    warnDamage(j, path);
    std::vector<std::pair<ExperimentRun *, CandidateRecord>> candidates;
    for (std::size_t i = 0; i < j.records.size(); ++i) {
        const journal::Record &r = j.records[i];
        ExperimentRun *run = nullptr;
        for (auto &x : e.runs)
            if (x.info.id == r.run && x.info.started == r.started)
                run = &x;
        if (!run)
            continue;
        JournalEntry entry = parseRecord(r, j.offsets[i], run->info.layers, path);
        if (!entry.isStep) {
            candidates.emplace_back(run, std::move(entry.candidate));
            continue;
        }
        const auto next = static_cast<int>(run->steps.size());
        if (entry.step.index < next)
            continue;
        if (entry.step.index > next) {
            log::logger(log::Subsystem::Store)
                ->warn("{}: run {} has no step {}; its step {} is not shown", journal::pathFor(path), r.run, next,
                    entry.step.index);
            continue;
        }
        run->steps.push_back(std::move(entry.step));
    }
    for (auto &[run, c] : candidates)
        if (c.step == static_cast<int>(run->steps.size()))
            run->pending.push_back(std::move(c));
}

// What appending to a run needs from the file: read, not copied.
struct RunHead
{
    std::string started;
    int layers = 0;
    int steps = 0;
};

// Opens an existing experiment file read-only: UsageError when there is none, FormatError when
// HDF5 cannot open it.
h5::File openForReading(const std::string &path)
{
    std::error_code ec;
    if (!fs::exists(path, ec))
        throw UsageError(path + ": no such experiment file");
    if (!fs::is_regular_file(path, ec))
        throw UsageError(path + ": not a file");
    const h5::PropertyList fapl = fileAccess(path);
    h5::File file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()));
    if (!file.valid())
        throw FormatError(path, FormatError::NoOffset, "",
            "not a Blockscope experiment file (HDF5 cannot open it: " + h5::lastError() + ")");
    return file;
}

RunHead runHead(const std::string &path, const std::string &runId)
{
    const h5::File file = openForReading(path);
    Location root{&path, file.get(), "/"};
    checkRoot(root);
    const h5::Group runsGroup = root.openGroup("runs");
    const Location runs = root.at(runsGroup, "runs");
    if (runNumber(runId) < 0 || !runs.hasLink(runId))
        throw UsageError(path + ": no run \"" + runId + "\"");
    const h5::Group g = runs.openGroup(runId);
    const Location at = runs.at(g, runId);
    RunHead head;
    head.started = h5::readStringAttribute(at, "started");
    head.layers = h5::readAttribute<std::int32_t>(at, "layers");
    const h5::Group stepsGroup = at.openGroup("steps");
    head.steps = static_cast<int>(at.at(stepsGroup, "steps").children().size());
    return head;
}

// The journal is folded once it holds half as many bytes as the file (and at least this many):
// each fold copies the file, so the copying adds up to at most twice the bytes appended.
constexpr std::uintmax_t MinFoldBytes = 64 * 1024;

} // namespace

Experiment ExperimentFile::read(const std::string &path)
{
    const std::lock_guard lock(ioMutex());
    quietHdf5();
    // The journal first: a fold that lands between the two reads then only repeats steps, which
    // the merge skips (read the other way round, it could hide them).
    const journal::Contents pending = journal::read(path);
    const h5::File file = openForReading(path);
    Location root{&path, file.get(), "/"};
    Experiment e;
    e.formatVersion = checkRoot(root);
    const h5::Group runsGroup = root.openGroup("runs");
    const Location runs = root.at(runsGroup, "runs");
    for (const auto &id : h5::numberedChildren(runs, "run-", 4, "run (expected run-NNNN)", false))
        e.runs.push_back(readRun(runs, id));
    e.sweeps = sweepstore::readSweeps(root);
    mergeJournal(e, pending, path);
    return e;
}

std::string ExperimentFile::addRun(const std::string &path, RunInfo info)
{
    if (info.layers < 1)
        throw UsageError("a run needs a model with at least one block, got " + std::to_string(info.layers));
    if (!statuses.count(info.status))
        throw UsageError("unknown run status \"" + info.status + "\" (valid: running, complete, cancelled, failed)");
    const std::lock_guard lock(ioMutex());
    quietHdf5();
    const std::string createdBy
        = "Blockscope" + (info.blockscopeVersion.empty() ? std::string() : " " + info.blockscopeVersion);
    std::string id;
    transaction(path, &createdBy, [&](const Location &root) {
        const h5::Group runsGroup = root.openGroup("runs");
        const Location runs = root.at(runsGroup, "runs");
        int last = 0;
        for (const auto &name : runs.children())
            last = std::max(last, runNumber(name));
        id = runName(last + 1);
        const h5::Group run = runs.createGroup(id);
        const Location at = runs.at(run, id);
        writeInfo(at, info);
        at.createGroup("steps");
    });
    return id;
}

void ExperimentFile::appendStep(const std::string &path, const std::string &runId, const TraceStep &step)
{
    const std::lock_guard lock(ioMutex());
    quietHdf5();
    const ExperimentWriteLock writer(path);
    const RunHead head = runHead(path, runId);
    checkStep(step, head.layers, path + ": run \"" + runId + "\"");
    const int next = std::max(head.steps, journal::nextStep(path, runId, head.started));
    if (step.index < next)
        throw UsageError(path + ": run \"" + runId + "\" already has step " + std::to_string(step.index)
            + "; recorded steps are never replaced");
    if (step.index > next)
        throw UsageError(path + ": run \"" + runId + "\" has no step " + std::to_string(next) + " yet; step "
            + std::to_string(step.index) + " cannot come before it");
    journal::append(path, {runId, head.started, {{"type", "step"}, {"step", stepjson::step(step, true)}}});
    std::error_code ec;
    const std::uintmax_t fileBytes = fs::file_size(path, ec);
    const std::uintmax_t journalBytes = journal::size(path);
    if (!ec && journalBytes >= MinFoldBytes && 2 * journalBytes >= fileBytes)
        transaction(path, nullptr, [](const Location &) {});
}

void ExperimentFile::appendCandidate(const std::string &path, const std::string &runId, const CandidateRecord &c)
{
    const std::lock_guard lock(ioMutex());
    quietHdf5();
    const ExperimentWriteLock writer(path);
    const RunHead head = runHead(path, runId);
    nlohmann::json body = stepjson::candidate(c);
    body["type"] = "candidate";
    journal::append(path, {runId, head.started, std::move(body)});
}

void ExperimentFile::foldJournal(const std::string &path)
{
    const std::lock_guard lock(ioMutex());
    quietHdf5();
    transaction(path, nullptr, [](const Location &) {});
}

void ExperimentFile::setStatus(const std::string &path, const std::string &runId, const std::string &status)
{
    if (!statuses.count(status))
        throw UsageError("unknown run status \"" + status + "\" (valid: running, complete, cancelled, failed)");
    changeRun(path, runId, [&](const Location &at) { h5::writeAttribute(at, "status", status); });
}

void ExperimentFile::setDensePerplexity(const std::string &path, const std::string &runId, double perplexity)
{
    changeRun(path, runId, [&](const Location &at) { h5::writeAttribute(at, "dense_perplexity", perplexity); });
}

void ExperimentFile::setPpa(const std::string &path, const std::string &runId, const std::vector<ppa::PpaPoint> &points)
{
    changeRun(path, runId, [&](const Location &at) {
        const int layers = h5::readAttribute<std::int32_t>(at, "layers");
        ppastore::checkPoints(points, layers, path + ": run \"" + runId + "\"");
        ppastore::writePoints(at, points);
    });
}

std::string ExperimentFile::addSweep(const std::string &path, SweepRecord sweep)
{
    const int layers = sweepstore::checkSweep(sweep, path + ": sweep \"" + sweep.label + "\"");
    const std::lock_guard lock(ioMutex());
    quietHdf5();
    const std::string createdBy = "Blockscope";
    std::string id;
    transaction(path, &createdBy, [&](const Location &root) { id = sweepstore::addSweep(root, sweep, layers); });
    return id;
}

void ExperimentFile::setFormatVersionForTesting(const std::string &path, int version)
{
    const std::lock_guard lock(ioMutex());
    quietHdf5();
    const h5::PropertyList fapl = fileAccess(path);
    h5::File file(H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl.get()));
    if (!file.valid())
        throw FormatError(path, FormatError::NoOffset, "", "cannot open: " + h5::lastError());
    const Location root{&path, file.get(), "/"};
    h5::writeAttribute(root, "format_version", std::int32_t(version));
    if (file.close() < 0)
        root.fail("", "cannot write the file");
}

} // namespace blockscope
