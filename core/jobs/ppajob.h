#pragma once

// The job that gives every configuration of a pruning run (or a single mask) its PPA point, as the
// CLI and the app run it: measurement (ppa/measure.h), predictions, the experiment file. No
// LibTorch in this header.

#include "ppa/measure.h"
#include "ppa/ppa.h"

#include <functional>
#include <string>
#include <vector>

namespace blockscope::dist {
class Group;
}

namespace blockscope::ppa {

struct PpaRequest
{
    std::string modelPath;
    std::string experimentPath; // with runId: a point for the dense model and every step of the run
    std::string runId; // empty with an experiment: the last run
    std::string device = "cpu";
    std::string dtype = "float32";
    int threads = 0; // CPU threads for the measurement (0: LibTorch's default)
    Workload workload;
    std::vector<std::string> predictFor; // device names from the table ("H100", "A100 80GB SXM", ...)
    std::string devicesPath; // a user's device table; empty: the built-in one
    bool measure = true;
    bool calibrate = true; // add "this machine (calibrated)" to the predictions
    bool unitBreakdown = true;
    std::string powercapRoot = "/sys/class/powercap";
    bool writeToExperiment = true;
    std::function<void(const PpaPoint &)> onPoint;
    // Ranks sharing the measurement (issue 16): each measures every world-th configuration on its
    // own device (so put ranks on separate GPUs or machines: on one CPU they share its cores and
    // its package energy counter); rank 0 alone reads the run, writes the points and gets
    // `onPoint`, once every rank's measurements are in.
    dist::Group *group = nullptr;
};

struct PpaReport
{
    std::vector<PpaPoint> points;
    std::string runId; // the run the points belong to (empty: none)
    std::string energySource;
};

// Throws UsageError naming a bad option (unknown device name, run id), FormatError for files.
PpaReport runPpaJob(const PpaRequest &request, JobContext &job);

} // namespace blockscope::ppa
