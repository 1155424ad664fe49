#pragma once

// How core/store opens and changes the experiment file: one HDF5 operation at a time, errors as
// exceptions, and every write a transaction on a copy that replaces the file only once it is
// complete and on disk. Private to core/store.

#include "experimentjournal.h"
#include "h5handles.h"

#include <functional>
#include <mutex>
#include <string>

namespace blockscope::h5tx {

// Held by every entry point: one HDF5 operation at a time in this process (it also keeps two
// threads from sharing the temporary file name, which is per process).
std::mutex &ioMutex();
// HDF5 prints its error stack to stderr unless told not to; errors become exceptions here instead.
// The setting is per thread in a thread-safe HDF5, so every entry point makes it.
void quietHdf5();
h5::PropertyList fileAccess(const std::string &file);

// Checks the root attributes (format, format version) and returns the format version; from format 2
// on it marks `root` (and every Location reached from it) as holding fixed-length strings only.
int checkRoot(h5::Location &root);

// Writes the journal's steps into the file a transaction is changing (`root` of its copy) and
// returns the records that stay in the journal: candidates of each run's next step. Records of
// runs the file does not have, and steps it already has, are dropped. Defined in experimentfile.cpp,
// which knows the runs' layout.
std::vector<journal::Record> foldJournal(const h5::Location &root, const journal::Contents &journal);

// Runs `change` on a copy of the file (a new file, with the root attributes and /runs, when
// `createdBy` is given and there is none), with the journal folded in first, and renames the copy over the original
// only once HDF5 has closed it and the bytes are on disk.
void transaction(
    const std::string &path, const std::string *createdBy, const std::function<void(const h5::Location &)> &change);

} // namespace blockscope::h5tx
