// Cached against naive searches (pruning.md §8), side by side in one run: SLEB and FinerCut on the
// same model and calibration windows, with the official codes' way (no cache, one window per
// forward) as the baseline. Prints unit-forwards per calibration window, wall time, and ratios;
// checks that every variant removes the same units.
//
//   bench_prune MODEL TEXT [SLEB_TARGET=2] [FINERCUT_STEPS=0 (full ranking)] [REPEATS=3] [THREADS=1]
//
// One thread by default: on a shared two-core machine OpenMP spin-waiting otherwise dominates.
#include "jobs/jobcontext.h"
#include "prune/prunejob.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace blockscope;

namespace {

struct Variant
{
    const char *name;
    bool cached;
    int batch;
};

std::string order(const PruneResult &r)
{
    std::string s;
    for (const Unit &u : r.removalOrder)
        s += (s.empty() ? "" : ", ") + u.label();
    return s;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_prune MODEL TEXT [SLEB_TARGET] [FINERCUT_STEPS] [REPEATS]\n");
        return 2;
    }
    const double slebTarget = argc > 3 ? std::atof(argv[3]) : 2;
    const double finercutSteps = argc > 4 ? std::atof(argv[4]) : 0;
    const int repeats = argc > 5 ? std::atoi(argv[5]) : 3;
    const int threads = argc > 6 ? std::atoi(argv[6]) : 1;
    at::set_num_threads(threads);
    std::printf("%d thread(s), median of %d runs each\n", threads, repeats);
    const Variant variants[]
        = {{"naive, batch 1 (official)", false, 1}, {"naive, batched", false, 0}, {"cached, batched", true, 0}};
    int failures = 0;
    for (PruneMethod method : {PruneMethod::Sleb, PruneMethod::FinerCut}) {
        std::printf("%s on %s\n", pruneMethodName(method).c_str(), argv[1]);
        double baseSeconds = 0;
        std::int64_t baseForwards = 0;
        std::string baseOrder;
        for (const Variant &v : variants) {
            PruneRequest req;
            req.modelPath = argv[1];
            req.calibrationPath = argv[2];
            req.options = PruneOptions::tinyTsDefaults(method);
            req.options.method = method;
            req.options.target = method == PruneMethod::Sleb ? slebTarget : finercutSteps;
            req.options.evaluateSteps = false;
            req.options.cached = v.cached;
            req.options.batch = v.batch;
            std::vector<double> seconds;
            PruneJobReport report;
            for (int i = 0; i < repeats; ++i) {
                JobContext job;
                report = runPruneJob(req, job);
                // The search alone: the job's own clock includes opening and tokenizing.
                seconds.push_back(report.result.steps.back().seconds);
            }
            std::sort(seconds.begin(), seconds.end());
            const double s = seconds[seconds.size() / 2];
            const std::int64_t forwards = report.result.steps.back().unitForwards;
            if (baseSeconds == 0) {
                baseSeconds = s;
                baseForwards = forwards;
                baseOrder = order(report.result);
            }
            const bool same = order(report.result) == baseOrder;
            failures += !same;
            std::printf("  %-28s %6lld %s-forwards/window (%.2fx)  %8.3f s median of %d (%.2fx faster)  %s\n", v.name,
                static_cast<long long>(forwards), method == PruneMethod::Sleb ? "block" : "sublayer",
                static_cast<double>(forwards) / static_cast<double>(baseForwards), s, repeats, baseSeconds / s,
                same ? "same removals" : ("DIFFERENT removals: " + order(report.result)).c_str());
        }
        std::printf("  removal order: %s\n", baseOrder.c_str());
    }
    return failures ? 1 : 0;
}
