#pragma once

// Power, performance and area of a model configuration (../shared/specs/ppa.md), as plain data:
// the analytic cost model (always available), roofline predictions for named devices, what was
// measured on this machine, and the PPA point that carries them with its quality. No LibTorch.

#include "model/architecture.h"
#include "model/unitmask.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace blockscope {
struct TensorInfo;
}

namespace blockscope::ppa {

constexpr double NaN = std::numeric_limits<double>::quiet_NaN();

// Every figure says where it comes from; tables, plots and exports print it. Derived: computed from
// measured figures by a rule (a unit's share of a measured total, apportioned by measured time),
// not itself read from a clock or a counter.
enum class Provenance { Measured, Modelled, Derived };
inline const char *provenanceName(Provenance p) // "measured" / "modelled" / "derived"
{
    switch (p) {
    case Provenance::Measured: return "measured";
    case Provenance::Derived: return "derived";
    case Provenance::Modelled: break;
    }
    return "modelled";
}

struct Figure
{
    double value = NaN; // the median when measured
    double min = NaN, max = NaN; // over the runs (measured only)
    int runs = 0;
    Provenance provenance = Provenance::Modelled;
    std::string note; // e.g. the energy source, or why a measurement fell back to the model

    bool known() const { return std::isfinite(value); }
    static Figure modelled(double v, std::string note = {})
    {
        return {v, NaN, NaN, 0, Provenance::Modelled, std::move(note)};
    }
};

// What a measurement or a prediction runs: batch x seq prefill, then decode steps one token at a time.
struct Workload
{
    int batch = 1;
    int seq = 128;
    int decodeTokens = 16;
    int warmup = 2;
    int runs = 5;
    std::string dtype = "float32"; // compute dtype: float32, bfloat16, float16
    double attentionDensity = 1.0; // pair density of (block-sparse) prefill attention
};

// One unit's share: "embedding", "attn L", "mlp L", "norm", "lm_head".
struct UnitCost
{
    std::string unit;
    int layer = -1;
    bool removed = false;
    std::int64_t params = 0;
    double storedBytes = 0; // in the checkpoint's own dtypes
    double prefillFlopsPerToken = 0; // at Workload::seq (causal mean context (seq+1)/2)
    double decodeFlopsPerToken = 0; // at context seq + decodeTokens/2
    double decodeBytesPerToken = 0;
    Figure seconds; // measured time of one prefill of the workload in this unit (NaN if not measured)
    // Prefill energy per token spent in this unit: the total measured energy apportioned by measured
    // time when a counter was read, else FLOPs·J/FLOP + weight bytes/(batch·seq)·J/byte (modelled).
    Figure joulesPerToken;
};

// The analytic model (ppa.md "modelled"): counts from the architecture, the checkpoint's tensors
// and the mask. FLOPs count a multiply-add as 2; norms, RoPE, softmax and SiLU are included as
// element-wise work (small); the embedding lookup costs bytes, not FLOPs.
struct CostModel
{
    std::int64_t paramsTotal = 0;
    std::int64_t paramsKept = 0;
    std::map<std::string, double> storedBytesByDtype; // kept weights per checkpoint dtype ("F32", "Q8_0", ...)
    double storedBytes = 0; // kept weights as stored
    double computeBytes = 0; // kept weights at the compute dtype (what a forward reads)
    double kvBytesPerToken = 0; // K and V of every kept attention sublayer at the compute dtype
    double activationPeakBytes = 0; // largest live activations of one prefill (modelled)
    double prefillFlopsPerToken = 0;
    double prefillBytesPerToken = 0; // weights / (batch·seq) + KV writes + activation traffic
    double decodeFlopsPerToken = 0;
    double decodeBytesPerToken = 0; // every kept weight once + the KV cache read at the mean context
    std::vector<UnitCost> units;
};

// Bytes of one element of a compute dtype name ("float32" 4, "bfloat16"/"float16" 2); throws
// std::invalid_argument for anything else.
double dtypeBytes(const std::string &dtype);

// `tensors`: the checkpoint's tensor index (stored dtypes, roles, blocks); empty = every weight at
// the compute dtype. Throws std::invalid_argument for a mask of the wrong length.
CostModel analyticCosts(
    const Architecture &arch, const std::vector<TensorInfo> &tensors, const UnitMask &mask, const Workload &workload);

// The units with each block's attention and MLP merged into one "block L" unit, for views of
// deep models (62 bars for a 30-block model are unreadable). A block's costs and figures are the
// sums over its kept sublayers (a removed sublayer costs nothing); it is removed only when both
// are. A summed figure is measured only when every kept part was, else modelled; min and max are
// not kept. Units outside the blocks (embedding, LM head) stay as they are, in order.
std::vector<UnitCost> unitsByBlock(const std::vector<UnitCost> &units);

// What a unit's share of the whole is measured in.
enum class ShareMetric { Params, Flops, Bytes, Time, Energy };
// The unit's figure for a metric (FLOPs: prefill per token; bytes: decode per token; time and
// energy: its measured or modelled figure), NaN when unknown.
double unitValue(const UnitCost &unit, ShareMetric metric);
// The unit's Figure for Time and Energy (with its provenance), null for the counted metrics.
const Figure *unitFigure(const UnitCost &unit, ShareMetric metric);
// The sum over kept units with a known value.
double keptTotal(const std::vector<UnitCost> &units, ShareMetric metric);
// Each unit's share of keptTotal in percent: 0 for a removed unit, NaN when its value or the
// total is unknown. The views, the CLI's table and the report all take shares from here.
std::vector<double> unitShares(const std::vector<UnitCost> &units, ShareMetric metric);
// Where the kept units' figures come from: "modelled" for counts, else the provenances present in
// the order measured, derived, modelled joined with " and " ("" when none is known).
std::string sharesProvenance(const std::vector<UnitCost> &units, ShareMetric metric);

// One row of the device table (resources/ppa/devices.json).
struct DeviceSpec
{
    std::string name; // "H100 SXM"
    std::string kind; // "gpu" or "cpu"
    std::map<std::string, double> peakFlops; // per compute dtype, FLOP/s (dense, no sparsity)
    double bandwidth = 0; // bytes/s
    double boardPower = 0; // W (TDP / TBP)
    double joulesPerFlop = 0; // energy constants of the device class
    double joulesPerByte = 0;
    std::map<std::string, std::string> sources; // field -> where the figure comes from
    bool calibrated = false; // measured on this machine (micro-benchmarks), not from a datasheet
};

struct DeviceTable
{
    std::vector<DeviceSpec> devices;
    // Case-insensitive; also matches with spaces removed ("h100" finds "H100 SXM" when unique).
    const DeviceSpec *find(const std::string &name) const;
    std::string names() const; // "H100 SXM, H200, ..."

    // The table that ships with Blockscope.
    static DeviceTable builtIn();
    // A user's table (same JSON layout); FormatError naming the file and the field at fault.
    static DeviceTable load(const std::string &path);
    static DeviceTable parse(const std::string &json, const std::string &pathForErrors);
};

// Roofline: per token, time = max(FLOPs / peak, bytes / bandwidth); energy = FLOPs·J/FLOP +
// bytes·J/byte. Throws std::invalid_argument when the device has no peak for the dtype.
struct Prediction
{
    std::string device;
    bool calibrated = false;
    double prefillTokensPerSecond = NaN;
    double decodeMsPerToken = NaN;
    double prefillJoulesPerToken = NaN;
    double decodeJoulesPerToken = NaN;
    bool prefillComputeBound = false;
    bool decodeComputeBound = false;
    // The device whose energy constants (J/FLOP, J/byte) the energies use: the device itself, or
    // for this machine calibrated, the device class they were borrowed from.
    std::string energyConstantsFrom;
};
Prediction predict(const CostModel &costs, const DeviceSpec &device, const Workload &workload);

// What was measured on this machine for one configuration.
struct Measurement
{
    std::string device; // "cpu (Intel Xeon, 2 threads)" / "cuda:0 (NVIDIA H200)"
    std::string dtype;
    int threads = 0;
    int batch = 0, seq = 0, decodeTokens = 0;
    Figure prefillTokensPerSecond;
    Figure decodeMsPerToken;
    Figure prefillJoulesPerToken; // measured with an energy counter, else modelled (and says so)
    Figure decodeJoulesPerToken;
    Figure peakMemoryBytes; // CUDA: allocator peak; CPU: process peak RSS (VmHWM) when resettable; else modelled
    std::string energySource; // "RAPL package-0 (/sys/class/powercap/intel-rapl:0)", "NVML", or why none
    // The pair density of the attention the measured forwards ran: always dense today (the
    // measurement runs the model's own attention), so a point with sparse prefill attention has
    // modelled figures that describe another computation than its measured ones.
    double attentionDensity = 1.0;
};

// A configuration's PPA point with its quality (ppa.md: quality travels with every point).
struct PpaPoint
{
    std::string label; // "dense", "step 3", "density 0.5"
    int step = -1; // trace step index; -1 for dense / sweep points
    UnitMask mask;
    double attentionDensity = 1.0;
    double perplexity = NaN;
    double klToDense = NaN;
    // The search's own score of the step's choice (SLEB's NLL sum, FinerCut's divergence, EvoPress's
    // fitness), filled from the trace where the points are shown; not stored with the points.
    double searchScore = NaN;
    std::string protocol; // one line
    CostModel costs;
    std::optional<Measurement> measured;
    std::vector<Prediction> predictions; // one per device asked for (and the calibrated local one)
};

// (measured − modelled) / modelled, or NaN when either is unknown or when the two describe
// different attention densities (the point's modelled costs at its sparse density against a
// measurement of dense attention): a gap between two different computations is no gap.
double measuredModelledGap(const PpaPoint &point, double measured, double modelled);

// Indices of the Pareto-optimal points (no other point at least as good on both axes and better on
// one), sorted by x. `minimiseX` / `minimiseY` say which way is better.
std::vector<std::size_t> paretoFrontier(
    const std::vector<double> &x, const std::vector<double> &y, bool minimiseX, bool minimiseY);

} // namespace blockscope::ppa
