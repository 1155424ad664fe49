// blockscope-h5check FILE: reads an experiment file and exits, so that core can read files from
// outside in a process of its own first (core/store/experimentcheck.h). A crash or hang inside
// libhdf5 on a damaged file then ends this process, never the app. Exit status: 0 readable,
// 1 refused with a clear error (printed as one line of JSON), 2 usage, 3 out of memory; a signal
// means a crash.
#include "common/formaterror.h"
#include "store/experimentfile.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <exception>
#include <new>
#include <sys/resource.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: blockscope-h5check EXPERIMENT.h5\n");
        return 2;
    }
    // No experiment file needs gigabytes to read, nor more than seconds of CPU: a damaged one that
    // asks for them ends here (bad_alloc, or SIGXCPU: libhdf5 can loop for ever in its global heap
    // on a damaged variable-length string) instead of swapping or spinning.
    const rlimit memory{rlim_t(4) << 30, rlim_t(4) << 30};
    setrlimit(RLIMIT_AS, &memory);
    const rlimit cpu{15, 16};
    setrlimit(RLIMIT_CPU, &cpu);
    try {
        const blockscope::Experiment e = blockscope::ExperimentFile::read(argv[1]);
        std::printf("%s: format %d, %zu runs, %zu sweeps\n", argv[1], e.formatVersion, e.runs.size(), e.sweeps.size());
        return 0;
    } catch (const std::bad_alloc &) {
        std::fprintf(stderr, "%s: reading it ran out of memory\n", argv[1]);
        return 3;
    } catch (const blockscope::FormatError &e) {
        // The error as data, so that the reading process throws it as it is (experimentcheck.cpp).
        const nlohmann::json error{{"error", "format"}, {"file", e.file()},
            {"offset",
                e.byteOffset() == blockscope::FormatError::NoOffset ? nlohmann::json()
                                                                    : nlohmann::json(e.byteOffset())},
            {"field", e.field()}, {"message", e.message()}};
        std::printf("%s\n", error.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        return 1;
    } catch (const std::exception &e) {
        const nlohmann::json error{{"error", "usage"}, {"message", e.what()}};
        std::printf("%s\n", error.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        return 1;
    }
}
