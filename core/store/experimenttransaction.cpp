// The experiment file's write transactions and the checks every open makes.
#include "experimenttransaction.h"

#include "common/formaterror.h"
#include "experimentfile.h"
#include "experimentlock.h"
#include "log/logging.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <unistd.h>

namespace blockscope::h5tx {

namespace fs = std::filesystem;
using h5::Location;

namespace {
constexpr const char *FormatName = "blockscope-experiment";
} // namespace

std::mutex &ioMutex()
{
    static std::mutex m;
    return m;
}

void quietHdf5()
{
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

h5::PropertyList fileAccess(const std::string &file)
{
    h5::PropertyList fapl(H5Pcreate(H5P_FILE_ACCESS));
    // SEMI: closing the file fails when an object is still open, rather than postponing the write.
    // No file locks: writers work on a private copy, and locks fail on some network file systems.
    if (!fapl.valid() || H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_SEMI) < 0
        || H5Pset_file_locking(fapl.get(), false, true) < 0)
        throw FormatError(file, FormatError::NoOffset, "", "cannot set up HDF5 file access: " + h5::lastError());
    return fapl;
}

int checkRoot(Location &root)
{
    if (!root.hasAttribute("format"))
        root.fail("/", "not a Blockscope experiment file (no \"format\" attribute)", false);
    // The version (a number) first: from format 2 on, every string of the file is read as
    // fixed-length only, this one included.
    if (root.hasAttribute("format_version"))
        root.fixedStringsOnly = h5::readAttribute<std::int32_t>(root, "format_version") >= 2;
    const std::string format = h5::readStringAttribute(root, "format");
    if (format != FormatName)
        root.fail("/@format", "not a Blockscope experiment file (format is \"" + format + "\")", false);
    const auto version = h5::readAttribute<std::int32_t>(root, "format_version");
    if (version > ExperimentFile::FormatVersion)
        root.fail("/@format_version",
            "written by a newer Blockscope: format " + std::to_string(version) + ", this build reads up to "
                + std::to_string(ExperimentFile::FormatVersion),
            false);
    if (version < 1)
        root.fail("/@format_version",
            "unknown format version " + std::to_string(version) + "; this build reads versions 1 to "
                + std::to_string(ExperimentFile::FormatVersion),
            false);
    return version;
}

namespace {

void fsyncPath(const std::string &path, bool directory)
{
    const int fd = ::open(path.c_str(), O_RDONLY | (directory ? O_DIRECTORY : 0) | O_CLOEXEC);
    if (fd < 0)
        throw UsageError(path + ": cannot open to sync: " + std::strerror(errno));
    const int rc = ::fsync(fd);
    const int error = errno;
    ::close(fd);
    if (rc != 0)
        throw UsageError(path + ": cannot sync: " + std::strerror(error));
}

} // namespace

void transaction(
    const std::string &path, const std::string *createdBy, const std::function<void(const Location &)> &change)
{
    // One writer per file: refused here when another process holds the file (experimentlock.h).
    const ExperimentWriteLock lock(path);
    const std::string temp = path + ".tmp-" + std::to_string(::getpid());
    struct TempFile
    {
        const std::string &path;
        bool keep = false;
        ~TempFile()
        {
            std::error_code ec;
            if (!keep)
                fs::remove(path, ec);
        }
    } guard{temp};

    // Read under the lock: no other process appends to it now.
    const journal::Contents pending = journal::read(path);
    std::vector<journal::Record> keep;
    std::error_code ec;
    const bool exists = fs::exists(path, ec);
    if (!exists && !createdBy)
        throw UsageError(path + ": no such experiment file");
    const h5::PropertyList fapl = fileAccess(path);
    {
        h5::File file;
        if (exists) {
            fs::copy_file(path, temp, fs::copy_options::overwrite_existing, ec);
            if (ec)
                throw UsageError(path + ": cannot copy to " + temp + " for writing: " + ec.message());
            file = h5::File(H5Fopen(temp.c_str(), H5F_ACC_RDWR, fapl.get()));
            if (!file.valid())
                throw FormatError(path, FormatError::NoOffset, "",
                    "not a Blockscope experiment file (HDF5 cannot open it: " + h5::lastError() + ")");
        } else {
            file = h5::File(H5Fcreate(temp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()));
            if (!file.valid())
                throw UsageError(path + ": cannot create the experiment file: " + h5::lastError());
        }
        Location root{&path, file.get(), "/"};
        if (exists) {
            checkRoot(root);
        } else {
            h5::writeAttribute(root, "format", std::string(FormatName));
            h5::writeAttribute(root, "format_version", std::int32_t(ExperimentFile::FormatVersion));
            root.fixedStringsOnly = true;
            h5::writeAttribute(root, "created_by", *createdBy);
            root.createGroup("runs");
        }
        keep = foldJournal(root, pending);
        change(root);
        if (file.close() < 0)
            root.fail("", "cannot write the file");
    }
    fsyncPath(temp, false);
    if (std::rename(temp.c_str(), path.c_str()) != 0)
        throw UsageError(path + ": cannot replace with " + temp + ": " + std::strerror(errno));
    guard.keep = true;
    // The new file is in place; a directory that cannot be synced only weakens durability.
    const fs::path parent = fs::path(path).parent_path();
    try {
        fsyncPath(parent.empty() ? "." : parent.string(), true);
    } catch (const UsageError &e) {
        log::logger(log::Subsystem::Store)->warn("{}", e.what());
    }
    // The file holds the journal's steps now; a journal that cannot be shortened still reads the
    // same, because folding and merging skip the steps a file already has.
    if (pending.fileBytes > 0) {
        try {
            journal::rewrite(path, keep);
        } catch (const UsageError &e) {
            log::logger(log::Subsystem::Store)->warn("{}", e.what());
        }
    }
}

} // namespace blockscope::h5tx
