#include "measure.h"

#include "common/formaterror.h"
#include "jobs/jobcontext.h"
#include "model/decoder.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <chrono>
#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <random>

#ifdef BLOCKSCOPE_HAVE_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace blockscope::ppa {

namespace fs = std::filesystem;

namespace {

// ---- energy counters ---------------------------------------------------------------------------

bool readNumber(const fs::path &p, double &out)
{
    std::ifstream in(p);
    return static_cast<bool>(in >> out);
}

class RaplMeter : public EnergyMeter
{
public:
    struct Zone
    {
        fs::path energy;
        double range = 0; // µJ
        double last = 0;
        double total = 0;
    };
    explicit RaplMeter(std::vector<Zone> zones, std::string name)
        : m_zones(std::move(zones))
        , m_name(std::move(name))
    {
    }
    double joules() override
    {
        double sum = 0;
        for (Zone &z : m_zones) {
            double now = 0;
            if (!readNumber(z.energy, now))
                throw std::runtime_error("RAPL counter " + z.energy.string() + " stopped being readable");
            double delta = now - z.last;
            if (delta < 0) // one wrap of the counter
                delta += z.range;
            z.total += delta;
            z.last = now;
            sum += z.total;
        }
        return sum * 1e-6;
    }
    std::string name() const override { return m_name; }

private:
    std::vector<Zone> m_zones;
    std::string m_name;
};

std::unique_ptr<EnergyMeter> openRapl(const std::string &root, std::string *whyNot)
{
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        *whyNot = "no RAPL energy counters (" + root + " does not exist)";
        return nullptr;
    }
    std::vector<RaplMeter::Zone> zones;
    std::string names;
    for (const auto &entry : fs::directory_iterator(root, ec)) {
        const std::string leaf = entry.path().filename().string();
        // Package zones only ("intel-rapl:0", "intel-rapl:1"; AMD exposes the same interface).
        if (leaf.rfind("intel-rapl:", 0) != 0 || leaf.find(':', 11) != std::string::npos)
            continue;
        RaplMeter::Zone z;
        z.energy = entry.path() / "energy_uj";
        if (!readNumber(z.energy, z.last)) {
            *whyNot = "RAPL counter " + z.energy.string() + " is not readable (it needs root on most systems)";
            return nullptr;
        }
        if (!readNumber(entry.path() / "max_energy_range_uj", z.range))
            z.range = 0;
        zones.push_back(z);
        names += (names.empty() ? "" : ", ") + leaf;
    }
    if (zones.empty()) {
        *whyNot = "no RAPL package zone under " + root;
        return nullptr;
    }
    return std::make_unique<RaplMeter>(std::move(zones), "RAPL " + names + " (" + root + ")");
}

class NvmlMeter : public EnergyMeter
{
public:
    using GetEnergy = int (*)(void *, unsigned long long *);
    NvmlMeter(void *lib, void *device, GetEnergy get, std::string name)
        : m_lib(lib)
        , m_device(device)
        , m_get(get)
        , m_name(std::move(name))
    {
    }
    ~NvmlMeter() override
    {
        if (m_lib)
            dlclose(m_lib);
    }
    double joules() override
    {
        unsigned long long mj = 0;
        if (m_get(m_device, &mj) != 0)
            throw std::runtime_error("NVML stopped answering nvmlDeviceGetTotalEnergyConsumption");
        return static_cast<double>(mj) * 1e-3;
    }
    std::string name() const override { return m_name; }

private:
    void *m_lib;
    void *m_device;
    GetEnergy m_get;
    std::string m_name;
};

std::unique_ptr<EnergyMeter> openNvml(int index, std::string *whyNot)
{
    void *lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        *whyNot = "NVML (libnvidia-ml.so.1) is not installed";
        return nullptr;
    }
    using Init = int (*)();
    using ByIndex = int (*)(unsigned, void **);
    auto init = reinterpret_cast<Init>(dlsym(lib, "nvmlInit_v2"));
    auto byIndex = reinterpret_cast<ByIndex>(dlsym(lib, "nvmlDeviceGetHandleByIndex_v2"));
    auto get = reinterpret_cast<NvmlMeter::GetEnergy>(dlsym(lib, "nvmlDeviceGetTotalEnergyConsumption"));
    void *device = nullptr;
    unsigned long long probe = 0;
    if (!init || !byIndex || !get || init() != 0 || byIndex(static_cast<unsigned>(index), &device) != 0
        || get(device, &probe) != 0) {
        dlclose(lib);
        *whyNot = "NVML has no total-energy counter for GPU " + std::to_string(index) + " (needs Volta or newer)";
        return nullptr;
    }
    return std::make_unique<NvmlMeter>(lib, device, get, "NVML total energy, GPU " + std::to_string(index));
}

// ---- memory -------------------------------------------------------------------------------------

// A "VmHWM:" / "VmRSS:" line of /proc/self/status in bytes, or NaN.
double statusBytes(const std::string &key)
{
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0)
            return std::stod(line.substr(key.size())) * 1024.0; // kB
    return NaN;
}

// Resets VmHWM to the current RSS (Linux: "5" > /proc/self/clear_refs); false when not allowed.
bool resetPeakResident()
{
    std::ofstream out("/proc/self/clear_refs");
    out << "5";
    out.flush();
    return static_cast<bool>(out);
}

// ---- timing ------------------------------------------------------------------------------------

void synchronize(const c10::Device &device)
{
    if (device.is_cuda())
        at::detail::getCUDAHooks().deviceSynchronize(device.index() < 0 ? 0 : device.index());
}

Figure fromRuns(std::vector<double> v, Provenance p, std::string note = {})
{
    Figure f;
    f.provenance = p;
    f.note = std::move(note);
    f.runs = static_cast<int>(v.size());
    if (v.empty())
        return f;
    std::sort(v.begin(), v.end());
    f.min = v.front();
    f.max = v.back();
    const std::size_t n = v.size();
    f.value = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    return f;
}

template<class Fn>
double seconds(const c10::Device &device, Fn &&fn)
{
    synchronize(device);
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    synchronize(device);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Attention with a growing K/V cache, through the decoder's attention hook: prefill fills it,
// each decode step appends one token and attends over everything so far.
struct KvCache
{
    std::vector<at::Tensor> k, v;
    ForwardCapture capture;

    explicit KvCache(int layers)
        : k(static_cast<std::size_t>(layers))
        , v(static_cast<std::size_t>(layers))
    {
        capture.attentionHook = [this](const AttentionInputs &in) -> at::Tensor {
            at::Tensor &K = k[static_cast<std::size_t>(in.layer)];
            at::Tensor &V = v[static_cast<std::size_t>(in.layer)];
            const bool prefill = !K.defined();
            K = prefill ? in.keys : at::cat({K, in.keys}, 2);
            V = prefill ? in.values : at::cat({V, in.values}, 2);
            at::Tensor kk = K, vv = V;
            const auto H = in.queries.size(1), Hkv = K.size(1);
            if (H != Hkv) {
                kk = kk.repeat_interleave(H / Hkv, 1);
                vv = vv.repeat_interleave(H / Hkv, 1);
            }
            return at::scaled_dot_product_attention(in.queries, kk, vv, {}, 0.0, prefill, in.scale);
        };
    }
};

} // namespace

std::unique_ptr<EnergyMeter> openEnergyMeter(
    const std::string &device, std::string *whyNot, const std::string &powercapRoot)
{
    std::string ignored;
    std::string &why = whyNot ? *whyNot : ignored;
    if (device.rfind("cuda", 0) == 0) {
        const int index = device.size() > 5 ? std::atoi(device.c_str() + 5) : 0;
        return openNvml(index, &why);
    }
    return openRapl(powercapRoot, &why);
}

Measurement measureConfiguration(const Decoder &decoder, const UnitMask &mask, const MeasureOptions &o,
    CostModel &costs, const DeviceSpec &energyModel, JobContext *job)
{
    c10::NoGradGuard noGrad;
    const Workload &w = o.workload;
    const c10::Device dev = decoder.options().device;
    const auto &arch = decoder.architecture();
    if (w.runs < 1 || w.warmup < 0)
        throw UsageError("--runs must be at least 1 and --warmup not negative");
    Measurement m;
    m.device = dev.is_cuda() ? "cuda:" + std::to_string(std::max<int>(0, dev.index())) : "cpu";
    m.dtype = w.dtype;
    m.threads = at::get_num_threads();
    m.batch = w.batch;
    m.seq = w.seq;
    m.decodeTokens = w.decodeTokens;
    std::string why;
    auto meter = openEnergyMeter(m.device, &why, o.powercapRoot);
    m.energySource = meter ? meter->name() : "none: " + why;

    std::mt19937_64 rng(0);
    at::Tensor tokens = at::empty({w.batch, w.seq}, at::kLong);
    auto *p = tokens.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < tokens.numel(); ++i)
        p[i] = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(arch.vocab));
    tokens = tokens.to(dev);

    if (job)
        job->stage("PPA: prefill");
#ifdef BLOCKSCOPE_HAVE_CUDA
    if (dev.is_cuda())
        c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(std::max<int>(0, dev.index())));
#endif
    const bool rssReset = !dev.is_cuda() && resetPeakResident();
    const double rssBefore = rssReset ? statusBytes("VmRSS:") : NaN;
    for (int i = 0; i < w.warmup; ++i)
        decoder.forward(tokens, mask);
    std::vector<double> prefillRate, prefillEnergy;
    for (int i = 0; i < w.runs; ++i) {
        if (job)
            job->checkpoint();
        const double e0 = meter ? meter->joules() : 0;
        const double s = seconds(dev, [&] { decoder.forward(tokens, mask); });
        const double tokensRun = static_cast<double>(w.batch) * w.seq;
        prefillRate.push_back(tokensRun / s);
        if (meter)
            prefillEnergy.push_back((meter->joules() - e0) / tokensRun);
    }
    m.prefillTokensPerSecond = fromRuns(prefillRate, Provenance::Measured);
#ifdef BLOCKSCOPE_HAVE_CUDA
    if (dev.is_cuda()) {
        const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(
            static_cast<c10::DeviceIndex>(std::max<int>(0, dev.index())));
        m.peakMemoryBytes = fromRuns({static_cast<double>(stats.allocated_bytes[0].peak)}, Provenance::Measured,
            "CUDA caching allocator peak, weights included");
    }
#endif
    if (rssReset) {
        const double peak = statusBytes("VmHWM:");
        if (std::isfinite(peak))
            m.peakMemoryBytes = fromRuns({peak}, Provenance::Measured,
                "peak resident memory of the whole process during the prefill runs (VmHWM; libraries and mapped "
                "weights included; "
                    + std::to_string(static_cast<long long>(rssBefore / 1048576)) + " MiB before them)");
    }
    if (!m.peakMemoryBytes.known())
        m.peakMemoryBytes = Figure::modelled(costs.computeBytes + costs.activationPeakBytes,
            "weights plus modelled activations (no allocator statistics on CPU)");

    // Decode: batch 1, a prompt of `seq` tokens in the cache, then one token at a time.
    std::vector<double> decodeMs, decodeEnergy;
    if (w.decodeTokens > 0) {
        if (job)
            job->stage("PPA: decode");
        at::Tensor prompt = tokens.narrow(0, 0, 1);
        for (int run = -w.warmup; run < w.runs; ++run) {
            if (job)
                job->checkpoint();
            KvCache cache(decoder.layers());
            at::Tensor h = decoder.forwardBlocks(decoder.embed(prompt), 0, decoder.layers(), mask, &cache.capture);
            at::Tensor next = decoder.logits(h.narrow(1, w.seq - 1, 1)).argmax(-1); // [1, 1]
            const double e0 = meter ? meter->joules() : 0;
            const double s = seconds(dev, [&] {
                for (int t = 0; t < w.decodeTokens; ++t) {
                    at::Tensor x = decoder.forwardBlocks(
                        decoder.embed(next), 0, decoder.layers(), mask, &cache.capture, w.seq + t);
                    next = decoder.logits(x).argmax(-1);
                }
            });
            if (run < 0)
                continue;
            decodeMs.push_back(1000.0 * s / w.decodeTokens);
            if (meter)
                decodeEnergy.push_back((meter->joules() - e0) / w.decodeTokens);
        }
        m.decodeMsPerToken = fromRuns(decodeMs, Provenance::Measured);
    }

    // Energy: the counter when there is one, else the device class's constants.
    const double jPrefill = costs.prefillFlopsPerToken * energyModel.joulesPerFlop
        + costs.prefillBytesPerToken * energyModel.joulesPerByte;
    const double jDecode
        = costs.decodeFlopsPerToken * energyModel.joulesPerFlop + costs.decodeBytesPerToken * energyModel.joulesPerByte;
    if (meter) {
        // A counter that did not advance during a run (a run shorter than its resolution or its
        // update interval) measured nothing: no figure, rather than 0 J.
        auto counted = [&](const std::vector<double> &perRun) {
            if (std::any_of(perRun.begin(), perRun.end(), [](double j) { return !(j > 0); })) {
                Figure none;
                none.provenance = Provenance::Measured;
                none.note = meter->name()
                    + ": the counter did not advance past its resolution during a run; no figure (use more "
                      "tokens or runs)";
                return none;
            }
            return fromRuns(perRun, Provenance::Measured, meter->name());
        };
        m.prefillJoulesPerToken = counted(prefillEnergy);
        if (!decodeEnergy.empty())
            m.decodeJoulesPerToken = counted(decodeEnergy);
    } else {
        const std::string note = "modelled with " + energyModel.name + "'s energy constants; " + why;
        m.prefillJoulesPerToken = Figure::modelled(jPrefill, note);
        if (w.decodeTokens > 0)
            m.decodeJoulesPerToken = Figure::modelled(jDecode, note);
    }

    if (o.unitBreakdown) {
        if (job)
            job->stage("PPA: time per unit");
        ForwardCapture states;
        states.hiddenStates = true;
        decoder.forwardBlocks(decoder.embed(tokens), 0, decoder.layers(), mask, &states);
        const int L = decoder.layers();
        for (UnitCost &u : costs.units) {
            if (job)
                job->checkpoint();
            if (u.removed)
                continue;
            std::function<void()> run;
            if (u.unit == "embedding") {
                run = [&] { decoder.embed(tokens); };
            } else if (u.unit == "lm_head") {
                run = [&] { decoder.logits(states.hidden[static_cast<std::size_t>(L)]); };
            } else {
                UnitMask only = UnitMask::dense(L);
                for (int l = 0; l < L; ++l)
                    only.skipAttn[l] = only.skipMlp[l] = true;
                const bool attn = u.unit.rfind("attn", 0) == 0;
                (attn ? only.skipAttn : only.skipMlp)[u.layer] = false;
                const at::Tensor input = states.hidden[static_cast<std::size_t>(u.layer)];
                run = [&decoder, input, only, l = u.layer] { decoder.forwardBlocks(input, l, l + 1, only); };
            }
            for (int i = 0; i < w.warmup; ++i)
                run();
            std::vector<double> times;
            for (int i = 0; i < w.runs; ++i)
                times.push_back(seconds(dev, run));
            u.seconds = fromRuns(times, Provenance::Measured);
        }
    }
    return m;
}

std::vector<std::int64_t> greedyDecodeWithCache(
    const Decoder &decoder, const UnitMask &mask, const std::vector<std::int64_t> &prompt, int count)
{
    c10::NoGradGuard noGrad;
    KvCache cache(decoder.layers());
    at::Tensor ids = at::tensor(prompt, at::kLong).unsqueeze(0).to(decoder.options().device);
    at::Tensor h = decoder.forwardBlocks(decoder.embed(ids), 0, decoder.layers(), mask, &cache.capture);
    at::Tensor next = decoder.logits(h.narrow(1, ids.size(1) - 1, 1)).argmax(-1);
    std::vector<std::int64_t> out;
    for (int t = 0; t < count; ++t) {
        out.push_back(next.item<std::int64_t>());
        if (t + 1 == count)
            break;
        at::Tensor x = decoder.forwardBlocks(decoder.embed(next), 0, decoder.layers(), mask, &cache.capture,
            static_cast<std::int64_t>(prompt.size()) + t);
        next = decoder.logits(x).argmax(-1);
    }
    return out;
}

DeviceSpec calibrateLocalDevice(const std::string &device, const DeviceSpec &energyClass, JobContext *job)
{
    c10::NoGradGuard noGrad;
    if (job)
        job->stage("PPA: calibrating this machine");
    const c10::Device dev(device);
    DeviceSpec d;
    d.name = "this machine (" + std::string(dev.is_cuda() ? "GPU" : "CPU") + ", calibrated)";
    d.kind = dev.is_cuda() ? "gpu" : "cpu";
    d.calibrated = true;
    d.joulesPerFlop = energyClass.joulesPerFlop;
    d.joulesPerByte = energyClass.joulesPerByte;
    d.boardPower = energyClass.boardPower;
    const std::int64_t n = dev.is_cuda() ? 4096 : 1024;
    for (const auto &[name, type] : {std::pair{"float32", at::kFloat}, std::pair{"bfloat16", at::kBFloat16}}) {
        at::Tensor a = at::randn({n, n}, at::TensorOptions().device(dev).dtype(type));
        at::Tensor b = at::randn({n, n}, at::TensorOptions().device(dev).dtype(type));
        at::mm(a, b);
        std::vector<double> rates;
        for (int i = 0; i < 5; ++i)
            rates.push_back(2.0 * n * n * n / seconds(dev, [&] { at::mm(a, b); }));
        std::sort(rates.begin(), rates.end());
        d.peakFlops[name] = rates[rates.size() / 2];
    }
    d.peakFlops["float16"] = d.peakFlops["bfloat16"];
    // Bandwidth: a copy far larger than any cache reads and writes every byte once.
    const std::int64_t elements = (dev.is_cuda() ? 1LL << 28 : 1LL << 26) / 4; // 256 MiB / 64 MiB
    at::Tensor src = at::ones({elements}, at::TensorOptions().device(dev).dtype(at::kFloat));
    at::Tensor dst = at::empty_like(src);
    dst.copy_(src);
    std::vector<double> bw;
    for (int i = 0; i < 5; ++i)
        bw.push_back(2.0 * static_cast<double>(src.nbytes()) / seconds(dev, [&] { dst.copy_(src); }));
    std::sort(bw.begin(), bw.end());
    d.bandwidth = bw[bw.size() / 2];
    d.sources["peak_tflops"] = "measured now: median of 5 " + std::to_string(n) + "^3 matrix products, "
        + std::to_string(at::get_num_threads()) + " threads";
    d.sources["memory_bandwidth_gbps"]
        = "measured now: median of 5 copies of " + std::to_string(src.nbytes() >> 20) + " MiB (read + write)";
    d.sources["pj_per_flop"] = "from " + energyClass.name;
    d.sources["pj_per_byte"] = "from " + energyClass.name;
    return d;
}

} // namespace blockscope::ppa
