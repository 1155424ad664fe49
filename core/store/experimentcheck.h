#pragma once

// Reading experiment files that come from outside this process (opened by the user, shared by a
// colleague) without letting a damaged one take the process down. libhdf5 1.10 is not hardened
// against hostile files: some corruptions crash it (a SIGSEGV in its global-heap read of a
// variable-length string) instead of returning an error. So such files are first read by
// `blockscope-h5check`, a small program of ours, in a child process; only when it read the file
// without crashing or hanging does this process read it too.

#include <chrono>
#include <string>

namespace blockscope {

struct Experiment;

// What the child made of the file.
struct ExperimentCheck
{
    enum class Outcome {
        Readable, // the file reads as an experiment
        Refused, // the reader gave a clear error (in `detail`, as one line of JSON)
        Crashed, // the reader died on a signal
        TimedOut, // it did not finish in time and was killed
        OutOfMemory, // it needed more memory than the checker allows
        Unchecked, // no checker to run (see experimentCheckerPath); nothing was checked
    };
    Outcome outcome = Outcome::Unchecked;
    std::string detail; // the child's message, or the signal's name
};

// The checker: $BLOCKSCOPE_H5CHECK, else `blockscope-h5check` beside this executable; empty when
// neither exists.
std::string experimentCheckerPath();

// Runs the checker on `path` in a child process, with a time limit.
ExperimentCheck checkExperimentInChild(
    const std::string &path, std::chrono::milliseconds timeout = std::chrono::seconds(60));

// ExperimentFile::read after checkExperimentInChild, only when the checker read the file: throws
// the checker's own error (FormatError or UsageError, as ExperimentFile::read would) when it
// refused the file, and FormatError naming the file when it crashed, hung or ran out of memory;
// the file is then never opened in this process. Without a checker it logs a warning and reads in
// this process.
Experiment readExperimentChecked(const std::string &path);

// Checks a file that a job is about to add to, when it exists: the same errors as
// readExperimentChecked, without the in-process read.
void checkExistingExperiment(const std::string &path);

} // namespace blockscope
