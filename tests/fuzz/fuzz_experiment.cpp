// The experiment reader (core/store, HDF5; the README's "Layout"). libhdf5 itself is not
// instrumented, so coverage guides through our reader only; inputs that crash or hang libhdf5 are
// found all the same, and are what the app and the CLI contain by reading outside files in
// blockscope-h5check first (core/store/experimentcheck.h). Run with -fork and -ignore_crashes
// to count them rather than stop at the first.
#include "common/formaterror.h"
#include "scratchfile.h"
#include "store/experimentfile.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace blockscope;
    const std::string path = fuzz::writeScratch("experiment.h5", data, size);
    try {
        const Experiment e = ExperimentFile::read(path);
        // Touch what was read, as the pages and exports do.
        std::size_t steps = 0;
        for (const auto &r : e.runs)
            steps += r.steps.size() + r.ppa.size() + r.info.label.size();
        for (const auto &s : e.sweeps)
            steps += s.points.size();
        (void)steps;
    } catch (const FormatError &) {
    } catch (const UsageError &) {
    }
    return 0;
}
