#pragma once

// Measuring PPA on this machine: energy counters, prefill and decode timing, peak memory, the
// calibrated local roofline device. No LibTorch in this header.

#include "ppa.h"

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

} // namespace blockscope::ppa
