// How long a search takes to stop once cancelled (the README promises "within a second"): a
// pruning job as the CLI and the app run it (model, text, experiment file written step by step)
// is cancelled after each of several delays, and the time from the request to the job's return is
// printed next to the time of one candidate evaluation measured in the same run, the baseline:
// a search checks its stop token inside every candidate, so the latency should stay a fraction
// of one candidate, whatever the model.
//
//   bench_cancel MODEL TEXT [METHOD=sleb] [DELAYS_S=0.5,1,2,4] [THREADS=1]
#include "common/formaterror.h"
#include "jobs/jobcontext.h"
#include "jobs/prunejob.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

using namespace blockscope;
using Clock = std::chrono::steady_clock;

int main(int argc, char **argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_cancel MODEL TEXT [METHOD=sleb] [DELAYS_S=0.5,1,2,4] [THREADS=1]\n");
        return 2;
    }
    const std::string method = argc > 3 ? argv[3] : "sleb";
    std::vector<double> delays;
    {
        std::stringstream list(argc > 4 ? argv[4] : "0.5,1,2,4");
        for (std::string item; std::getline(list, item, ',');)
            delays.push_back(std::atof(item.c_str()));
    }
    at::set_num_threads(argc > 5 ? std::atoi(argv[5]) : 1);
    const std::string dir = (std::filesystem::temp_directory_path() / "bench_cancel").string();
    std::filesystem::create_directories(dir);

    std::printf("%-8s %10s %12s %14s %18s %10s\n", "delay s", "latency s", "candidates", "s/candidate",
        "latency/candidate", "< 1 s");
    double worst = 0;
    for (std::size_t i = 0; i < delays.size(); ++i) {
        PruneRequest r;
        r.modelPath = argv[1];
        r.calibrationPath = argv[2];
        r.options.method = pruneMethodFromName(method);
        r.options.target = 0.5;
        r.options.evaluateSteps = false;
        r.experimentPath = dir + "/run" + std::to_string(i) + ".h5";
        std::filesystem::remove(r.experimentPath);
        std::atomic<int> candidates = 0;
        std::atomic<double> firstCandidate = -1, lastCandidate = -1;
        const auto start = Clock::now();
        auto since = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
        r.onCandidate = [&](const CandidateRecord &) {
            const double t = since();
            if (candidates++ == 0)
                firstCandidate = t;
            lastCandidate = t;
        };
        std::stop_source stop;
        std::atomic<double> returned = -1;
        std::string outcome = "finished";
        std::thread worker([&] {
            JobContext job(stop.get_token());
            try {
                runPruneJob(r, job);
            } catch (const JobCancelled &) {
                outcome = "cancelled";
            } catch (const std::exception &e) {
                outcome = std::string("failed: ") + e.what();
            }
            returned = since();
        });
        // The delay counts from the first candidate, so that opening the model is not what is timed.
        while (firstCandidate < 0 && returned < 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        const double asked = firstCandidate + delays[i];
        while (since() < asked && returned < 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        const double requestedAt = since();
        stop.request_stop();
        worker.join();
        if (outcome != "cancelled") {
            std::printf("%-8g the job was not cancelled: %s (a longer search or a shorter delay)\n", delays[i],
                outcome.c_str());
            continue;
        }
        const double latency = returned - requestedAt;
        const int n = candidates;
        const double perCandidate = n > 1 ? (lastCandidate - firstCandidate) / (n - 1) : 0;
        worst = std::max(worst, latency);
        if (n > 1)
            std::printf("%-8g %10.3f %12d %14.3f %18.3f %10s\n", delays[i], latency, n, perCandidate,
                latency / perCandidate, latency < 1.0 ? "yes" : "NO");
        else // one candidate seen: no baseline in this row (a longer delay gives one)
            std::printf(
                "%-8g %10.3f %12d %14s %18s %10s\n", delays[i], latency, n, "-", "-", latency < 1.0 ? "yes" : "NO");
    }
    std::printf("worst latency %.3f s\n", worst);
    return worst < 1.0 ? 0 : 1;
}
