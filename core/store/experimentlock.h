#pragma once

// One writer per experiment file. Every write takes an advisory lock (flock) on a lock file named
// after the experiment's canonical path, in a folder private to the user ($XDG_RUNTIME_DIR/
// blockscope-locks, else /tmp/blockscope-locks-<uid>), and the jobs that write (searches, PPA,
// sparsity sweeps) hold it for their whole run, so a second process writing the same file is
// refused, after waiting up to 3 s for a transaction of another process to end, with a message
// naming the file and the process that holds it. The lock file goes when its holder lets go.
// Holders within one process share the lock (a search and a PPA job of the same app may both
// write, one transaction at a time). The first holder in a process removes the temporary copies (`<file>.tmp-<pid>`)
// that killed writers left beside the file. Local to one machine: processes on different machines writing one file over
// a network share are not seen.

#include <string>

namespace blockscope {

class ExperimentWriteLock
{
public:
    // Throws UsageError when another process holds the lock.
    explicit ExperimentWriteLock(const std::string &path);
    ~ExperimentWriteLock();
    ExperimentWriteLock(const ExperimentWriteLock &) = delete;
    ExperimentWriteLock &operator=(const ExperimentWriteLock &) = delete;

    // The lock file for `path` (tests hold it from another process).
    static std::string lockFileFor(const std::string &path);

private:
    std::string m_key;
};

} // namespace blockscope
