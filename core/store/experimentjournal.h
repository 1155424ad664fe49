#pragma once

// The experiment file's journal, `<file>.journal` beside it: a running search appends every scored
// candidate and every finished step to it as it is produced, one checksummed line each, synced
// before the call returns. An append costs the same however large the experiment file is. The
// next transaction on the file (every status change, PPA or sweep write, and any step append once
// the journal has grown to half the file's size) folds the journal in, so the copy a transaction
// makes is paid once per doubling of the data rather than once per step. Readers merge what is
// not folded yet (ExperimentFile::read). A line being written when its process died fails its
// checksum and is dropped with everything after it. Private to core/store.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace blockscope::journal {

struct Record
{
    std::string run; // the run's id
    std::string started; // and its start time: records left beside another file with the same run ids are not applied
    nlohmann::json body; // {"type": "step", "step": {...}} or {"type": "candidate", ...}
};

struct Contents
{
    std::vector<Record> records;
    std::vector<std::uint64_t> offsets; // byte offset of each record's line
    std::uintmax_t goodBytes = 0; // the header and the intact records before the first bad line
    std::uintmax_t fileBytes = 0; // 0 when there is no journal
    std::string damage; // why reading stopped before the end; empty when it did not
};

std::string pathFor(const std::string &experiment);
// The journal of `experiment`; empty when there is none. Throws FormatError naming the journal
// when the file is not a Blockscope journal at all.
Contents read(const std::string &experiment);
// Appends one record and syncs it to disk; a line a killed writer left half-written is cut first.
// The caller holds the experiment's write lock.
void append(const std::string &experiment, const Record &record);
// Replaces the journal by `keep` through a synced temporary copy and a rename; removes it when
// `keep` is empty. The caller holds the write lock.
void rewrite(const std::string &experiment, const std::vector<Record> &keep);
// One past the highest step index the journal holds for the run (0 when it holds none); read
// again only when the journal is not as this process last wrote it.
int nextStep(const std::string &experiment, const std::string &run, const std::string &started);
// Bytes in the journal, 0 when there is none.
std::uintmax_t size(const std::string &experiment);

} // namespace blockscope::journal
