#pragma once

#include "eval/protocol.h"
#include "ppa/ppa.h"
#include "prune/pruneoptions.h"
#include "prune/trace.h"
#include "sweeprecord.h"

#include <optional>
#include <string>
#include <vector>

namespace blockscope {

// Everything that identifies a run apart from its steps.
struct RunInfo
{
    std::string id; // "run-0001", assigned by addRun
    std::string label;
    PruneOptions options; // the method is options.method
    int layers = 0;
    std::string modelPath;
    std::string modelHash; // contentHash() of the checkpoint
    std::string calibrationPath;
    std::string calibrationHash;
    Protocol calibrationProtocol;
    std::optional<Protocol> evaluationProtocol;
    double densePerplexity = TraceStep::NaN;
    std::string started; // ISO 8601, UTC
    std::string status = "running"; // running, complete, cancelled, failed
    std::string blockscopeVersion;
};

struct ExperimentRun
{
    RunInfo info;
    std::vector<TraceStep> steps;
    std::vector<ppa::PpaPoint> ppa = {}; // in the order setPpa was given them; empty when none were stored
    // Candidates already scored in the step after the last one (a run that was interrupted inside
    // a step), from the journal; --resume starts from them.
    std::vector<CandidateRecord> pending = {};
};

struct Experiment
{
    int formatVersion = 0;
    std::vector<ExperimentRun> runs;
    std::vector<SweepRecord> sweeps; // sparsity sweeps in id order; empty when the file has none
    const ExperimentRun *find(const std::string &runId) const;
    const SweepRecord *findSweep(const std::string &sweepId) const;
};

// The experiment file (HDF5, layout in the README): plain groups, datasets and attributes that
// h5py and HDFView read. Every write is a transaction: the file on disk is always either the
// state before the call or the state after it, and the file still opens whenever the process is
// killed. Steps and candidate scores go first to the journal beside the file (experimentjournal.h,
// `<file>.journal`), appended and synced as they are produced, so a kill loses at most the
// candidate in flight; read() merges the journal, and the next transaction folds it in.
// Everything a file held before a write is kept.
class ExperimentFile
{
public:
    // 2: every string fixed-length (1 wrote variable-length ones, which this build still reads).
    static constexpr int FormatVersion = 2;

    // Reads every run and sweep. Throws FormatError naming the file and the group/dataset/attribute at
    // fault for a file that is not an experiment, is corrupt or truncated, or comes from a newer
    // format version ("written by a newer Blockscope: format 2, this build reads up to 1").
    static Experiment read(const std::string &path);
    // Adds a run (creating the file when it does not exist) and returns its id.
    static std::string addRun(const std::string &path, RunInfo info);
    // Appends a step to the run through the journal: its cost does not grow with the file. Throws
    // UsageError for a step that is not the run's next one.
    static void appendStep(const std::string &path, const std::string &runId, const TraceStep &step);
    // Records a candidate scored inside the run's next step (journal only; kept until that step is
    // appended).
    static void appendCandidate(const std::string &path, const std::string &runId, const CandidateRecord &candidate);
    // Folds the journal into the HDF5 file now (every other write does it too).
    static void foldJournal(const std::string &path);
    static void setStatus(const std::string &path, const std::string &runId, const std::string &status);
    static void setDensePerplexity(const std::string &path, const std::string &runId, double perplexity);
    // Replaces the run's PPA points (the optional /runs/<id>/ppa group) by `points`; an empty list
    // leaves the run with none. Throws UsageError, before writing, for a point whose mask is neither
    // empty nor `layers` long or whose unit lies outside the run.
    static void setPpa(const std::string &path, const std::string &runId, const std::vector<ppa::PpaPoint> &points);

    // Adds a sparsity sweep as /sweeps/<id> (creating the file when it does not exist) and returns
    // its id ("sweep-0001", "sweep-0002", ...; sweep.id is ignored). Sweeps are never changed
    // afterwards. Throws UsageError, before writing, for a point whose rule kind is neither "density"
    // nor "threshold", a negative block size, or PPA points whose masks differ in length or whose
    // units lie outside them.
    static std::string addSweep(const std::string &path, SweepRecord sweep);

    // Rewrites the root's format_version in place, without a transaction: tests use it to make a
    // file from a "newer" Blockscope.
    static void setFormatVersionForTesting(const std::string &path, int version);
};

} // namespace blockscope
