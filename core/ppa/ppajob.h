#pragma once

// Measuring PPA on this machine and the job that gives every configuration of a pruning run (or a
// single mask) its PPA point, as the CLI and the app run it. No LibTorch in this header.

#include "ppa.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace blockscope {
class Decoder;
class JobContext;
} // namespace blockscope

namespace blockscope::ppa {

// A cumulative energy counter (J). RAPL package counters under /sys/class/powercap on CPUs, NVML's
// total-energy counter on NVIDIA GPUs. Counters wrap; joules() accounts for one wrap per reading.
class EnergyMeter
{
public:
    virtual ~EnergyMeter() = default;
    virtual double joules() = 0;
    virtual std::string name() const = 0;
};

// The meter for "cpu" or "cuda[:N]", or null with the reason in `whyNot` (not readable, absent,
// no NVML); `powercapRoot` is where RAPL lives (tests point it elsewhere).
std::unique_ptr<EnergyMeter> openEnergyMeter(
    const std::string &device, std::string *whyNot, const std::string &powercapRoot = "/sys/class/powercap");

struct MeasureOptions
{
    Workload workload;
    bool unitBreakdown = true; // time every kept unit on its own
    std::string powercapRoot = "/sys/class/powercap";
};

// Prefill throughput and decode latency of `decoder` with `mask` (warm-up, then runs; median with
// min and max), energy from a counter when one is readable (else modelled from `energyModel`'s
// constants, and the figure says so), peak memory (CUDA: allocator peak; CPU: the process's peak
// resident set during the prefill runs where Linux lets it be reset, else modelled). Fills
// `costs.units[*].seconds` with measured per-unit prefill times when unitBreakdown is on.
Measurement measureConfiguration(const Decoder &decoder, const UnitMask &mask, const MeasureOptions &options,
    CostModel &costs, const DeviceSpec &energyModel, JobContext *job = nullptr);

// Greedy decoding of `count` tokens after `prompt` with a K/V cache (the path decode latency is
// measured on); exposed so tests can check it against full forwards.
std::vector<std::int64_t> greedyDecodeWithCache(
    const Decoder &decoder, const UnitMask &mask, const std::vector<std::int64_t> &prompt, int count);

// This machine as a roofline device: sustained FLOP/s of a large matrix product in each dtype and
// the bandwidth of a large copy, measured now; energy constants from `energyClass`.
DeviceSpec calibrateLocalDevice(const std::string &device, const DeviceSpec &energyClass, JobContext *job = nullptr);

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
