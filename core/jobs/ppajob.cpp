#include "ppajob.h"

#include "common/contenthash.h"
#include "common/formaterror.h"
#include "dist/rankjob.h"
#include "eval/runsetup.h"
#include "jobs/jobcontext.h"
#include "log/logline.h"
#include "model/decoder.h"
#include "model/modelhandle.h"
#include "store/experimentcheck.h"
#include "store/experimentfile.h"
#include "store/experimentlock.h"
#include "store/stepjson.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <optional>

namespace blockscope::ppa {

namespace {

const DeviceSpec &energyClassFor(const DeviceTable &table, const std::string &kind)
{
    for (const DeviceSpec &d : table.devices)
        if (d.kind == kind)
            return d;
    return table.devices.front();
}

// Each unit's share of the prefill energy per token: the measured total split by measured time when
// a counter was read, else the unit's own modelled FLOPs and weight traffic.
void apportionEnergy(PpaPoint &p, const DeviceSpec &energy, const Workload &w)
{
    const double tokens = static_cast<double>(w.batch) * w.seq, b = dtypeBytes(w.dtype);
    const bool measured = p.measured && p.measured->prefillJoulesPerToken.known()
        && p.measured->prefillJoulesPerToken.provenance == Provenance::Measured;
    double totalSeconds = 0;
    for (const UnitCost &u : p.costs.units)
        if (!u.removed && u.seconds.known())
            totalSeconds += u.seconds.value;
    for (UnitCost &u : p.costs.units) {
        if (u.removed)
            continue;
        if (measured && u.seconds.known() && totalSeconds > 0) {
            u.joulesPerToken = {p.measured->prefillJoulesPerToken.value * u.seconds.value / totalSeconds, NaN, NaN, 0,
                Provenance::Derived, "the measured total apportioned by measured time"};
        } else {
            u.joulesPerToken = Figure::modelled(u.prefillFlopsPerToken * energy.joulesPerFlop
                    + static_cast<double>(u.params) * b / tokens * energy.joulesPerByte,
                "modelled with " + energy.name + "'s energy constants");
        }
    }
}

// A figure and a measurement as the ranks send them to each other (every double exact).
nlohmann::json figureJson(const Figure &f)
{
    return {stepjson::exactNumber(f.value), stepjson::exactNumber(f.min), stepjson::exactNumber(f.max), f.runs,
        static_cast<int>(f.provenance), f.note};
}

Figure figureFrom(const nlohmann::json &j)
{
    return {stepjson::readNumber(j.at(0), "value"), stepjson::readNumber(j.at(1), "min"),
        stepjson::readNumber(j.at(2), "max"), j.at(3).get<int>(), static_cast<Provenance>(j.at(4).get<int>()),
        j.at(5).get<std::string>()};
}

nlohmann::json measuredJson(const PpaPoint &p)
{
    const Measurement &m = *p.measured;
    nlohmann::json units = nlohmann::json::array();
    for (const UnitCost &u : p.costs.units)
        units.push_back(figureJson(u.seconds));
    return {{"device", m.device}, {"dtype", m.dtype}, {"threads", m.threads}, {"batch", m.batch}, {"seq", m.seq},
        {"decode", m.decodeTokens}, {"prefill_tps", figureJson(m.prefillTokensPerSecond)},
        {"decode_ms", figureJson(m.decodeMsPerToken)}, {"prefill_j", figureJson(m.prefillJoulesPerToken)},
        {"decode_j", figureJson(m.decodeJoulesPerToken)}, {"memory", figureJson(m.peakMemoryBytes)},
        {"energy", m.energySource}, {"density", stepjson::exactNumber(m.attentionDensity)}, {"units", units}};
}

void readMeasured(const nlohmann::json &j, PpaPoint &p)
{
    Measurement m;
    m.device = j.at("device");
    m.dtype = j.at("dtype");
    m.threads = j.at("threads");
    m.batch = j.at("batch");
    m.seq = j.at("seq");
    m.decodeTokens = j.at("decode");
    m.prefillTokensPerSecond = figureFrom(j.at("prefill_tps"));
    m.decodeMsPerToken = figureFrom(j.at("decode_ms"));
    m.prefillJoulesPerToken = figureFrom(j.at("prefill_j"));
    m.decodeJoulesPerToken = figureFrom(j.at("decode_j"));
    m.peakMemoryBytes = figureFrom(j.at("memory"));
    m.energySource = j.at("energy");
    m.attentionDensity = stepjson::readNumber(j.at("density"), "density");
    const nlohmann::json &units = j.at("units");
    for (std::size_t i = 0; i < p.costs.units.size() && i < units.size(); ++i)
        p.costs.units[i].seconds = figureFrom(units[i]);
    p.measured = std::move(m);
}

// What rank 0 read from the experiment file, for the other ranks: the run and its configurations.
nlohmann::json pointsJson(const std::string &runId, const std::vector<PpaPoint> &points)
{
    nlohmann::json list = nlohmann::json::array();
    for (const PpaPoint &p : points)
        list.push_back({{"label", p.label}, {"step", p.step}, {"mask", stepjson::mask(p.mask)},
            {"ppl", stepjson::exactNumber(p.perplexity)}, {"kl", stepjson::exactNumber(p.klToDense)},
            {"protocol", p.protocol}});
    return {{"run", runId}, {"points", list}};
}

std::vector<PpaPoint> pointsFrom(const nlohmann::json &j, int layers)
{
    std::vector<PpaPoint> out;
    for (const nlohmann::json &e : j.at("points")) {
        PpaPoint p;
        p.label = e.at("label");
        p.step = e.at("step");
        p.mask = UnitMask::dense(layers);
        for (int l = 0; l < layers; ++l) {
            p.mask.skipAttn[static_cast<std::size_t>(l)] = e.at("mask").at("skip_attn").at(l).get<bool>();
            p.mask.skipMlp[static_cast<std::size_t>(l)] = e.at("mask").at("skip_mlp").at(l).get<bool>();
        }
        p.perplexity = stepjson::readNumber(e.at("ppl"), "ppl");
        p.klToDense = stepjson::readNumber(e.at("kl"), "kl");
        p.protocol = e.at("protocol");
        out.push_back(std::move(p));
    }
    return out;
}

PpaReport measureHere(const PpaRequest &r, JobContext &job);

} // namespace

PpaReport runPpaJob(const PpaRequest &r, JobContext &job)
{
    return dist::runAsRank(r.group, job, [&](JobContext &work) { return measureHere(r, work); });
}

namespace {

PpaReport measureHere(const PpaRequest &r, JobContext &job)
{
    dist::Group *const group = r.group != nullptr && r.group->world() > 1 ? r.group : nullptr;
    const bool root = group == nullptr || group->isRoot();
    const std::string experimentPath = root ? r.experimentPath : std::string();
    // A damaged experiment file is refused before any work, and never opened here if it would crash.
    std::optional<ExperimentWriteLock> writeLock;
    if (!experimentPath.empty()) {
        checkExistingExperiment(experimentPath);
        if (r.writeToExperiment)
            writeLock.emplace(experimentPath); // this process's to write until the points are in it
    }
    const DeviceTable table = r.devicesPath.empty() ? DeviceTable::builtIn() : DeviceTable::load(r.devicesPath);
    std::vector<const DeviceSpec *> targets;
    for (const std::string &name : r.predictFor) {
        const DeviceSpec *d = table.find(name);
        if (!d)
            throw UsageError("--predict-for: no device \"" + name + "\" in the device table (" + table.names() + ")");
        targets.push_back(d);
    }
    (void)dtypeBytes(r.dtype);
    if (r.threads < 0)
        throw UsageError("--threads must not be negative");
    if (r.threads > 0)
        at::set_num_threads(r.threads);

    // The configurations: the dense model, then every step of the run.
    PpaReport report;
    std::vector<PpaPoint> points;
    std::optional<ExperimentRun> run;
    if (!experimentPath.empty()) {
        const Experiment e = ExperimentFile::read(experimentPath);
        if (e.runs.empty())
            throw UsageError("--experiment: " + experimentPath + " has no runs");
        if (r.runId.empty()) {
            run = e.runs.back();
        } else {
            const ExperimentRun *found = e.find(r.runId);
            if (!found)
                throw UsageError("--run: " + experimentPath + " has no run \"" + r.runId + "\"");
            run = *found;
        }
        report.runId = run->info.id;
    }

    job.stage("PPA: opening the model");
    auto model = ModelHandle::open(r.modelPath);
    const Architecture &arch = model->architecture();
    if (run && run->info.layers != arch.layers)
        throw UsageError("--experiment: run " + run->info.id + " has " + std::to_string(run->info.layers)
            + " layers but " + r.modelPath + " has " + std::to_string(arch.layers));
    if (run && !run->info.modelPath.empty() && run->info.modelHash != contentHash(r.modelPath))
        log::line(log::Subsystem::Ppa, log::Level::Warn,
            "PPA: " + r.modelPath + " is not the checkpoint run " + run->info.id + " was pruned from ("
                + run->info.modelPath + ")");

    PpaPoint dense;
    dense.label = "dense";
    dense.mask = UnitMask::dense(static_cast<int>(arch.layers));
    dense.klToDense = 0;
    if (run) {
        dense.perplexity = run->info.densePerplexity;
        if (run->info.evaluationProtocol)
            dense.protocol = run->info.evaluationProtocol->oneLine();
    }
    points.push_back(dense);
    if (run)
        for (const TraceStep &s : run->steps) {
            PpaPoint p;
            p.step = s.index;
            p.label = "step " + std::to_string(s.index) + ": " + unitsLabel(s.chosen);
            p.mask = s.mask;
            p.perplexity = s.perplexity;
            p.klToDense = s.klToDense;
            p.protocol = dense.protocol;
            points.push_back(std::move(p));
        }

    if (group != nullptr) {
        // Every rank measures on its own copy of the model: the ranks agree on it and on the request,
        // and take rank 0's configurations.
        job.stage("PPA: checking that the ranks agree");
        group->requireSame("the model's content hash", contentHash(r.modelPath));
        group->requireSame("the measurement",
            r.device + " " + r.dtype + " batch " + std::to_string(r.workload.batch) + " seq "
                + std::to_string(r.workload.seq) + " decode " + std::to_string(r.workload.decodeTokens) + " runs "
                + std::to_string(r.workload.runs) + " warmup " + std::to_string(r.workload.warmup)
                + (r.measure ? " measure" : "") + (r.calibrate ? " calibrate" : "")
                + (r.unitBreakdown ? " breakdown" : ""));
        const nlohmann::json shared = nlohmann::json::parse(group->broadcast(pointsJson(report.runId, points).dump()));
        if (!root) {
            report.runId = shared.at("run");
            points = pointsFrom(shared, static_cast<int>(arch.layers));
        }
    }

    std::unique_ptr<Decoder> decoder;
    if (r.measure || r.calibrate)
        decoder = std::make_unique<Decoder>(model, decoderOptionsFor(r.device, r.dtype));
    const DeviceSpec &energyClass = energyClassFor(table, r.device.rfind("cuda", 0) == 0 ? "gpu" : "cpu");
    std::optional<DeviceSpec> local;
    if (r.calibrate)
        local = calibrateLocalDevice(r.device, energyClass, &job);

    const auto mine = [&](std::size_t i) {
        return group == nullptr || static_cast<int>(i % static_cast<std::size_t>(group->world())) == group->rank();
    };
    for (std::size_t i = 0; i < points.size(); ++i) {
        job.checkpoint();
        job.stage("PPA: " + points[i].label);
        PpaPoint &p = points[i];
        Workload w = r.workload;
        w.dtype = r.dtype;
        p.attentionDensity = w.attentionDensity;
        p.costs = analyticCosts(arch, model->tensors(), p.mask, w);
        if (local)
            p.predictions.push_back(predict(p.costs, *local, w));
        for (const DeviceSpec *d : targets)
            p.predictions.push_back(predict(p.costs, *d, w));
        if (r.measure && mine(i)) {
            MeasureOptions mo;
            mo.workload = w;
            mo.unitBreakdown = r.unitBreakdown;
            mo.powercapRoot = r.powercapRoot;
            p.measured = measureConfiguration(*decoder, p.mask, mo, p.costs, local ? *local : energyClass, &job);
            report.energySource = p.measured->energySource;
        }
        if (group != nullptr) { // apportioned and handed out once every rank's measurements are in
            job.progress(static_cast<double>(i + 1), static_cast<double>(points.size()));
            continue;
        }
        apportionEnergy(p, local ? *local : energyClass, w);
        job.progress(static_cast<double>(i + 1), static_cast<double>(points.size()));
        if (r.onPoint)
            r.onPoint(p);
    }
    if (group != nullptr) {
        nlohmann::json measured = nlohmann::json::object();
        for (std::size_t i = 0; i < points.size(); ++i)
            if (mine(i) && points[i].measured)
                measured[std::to_string(i)] = measuredJson(points[i]);
        for (const std::string &part : group->gather(measured.dump())) {
            const nlohmann::json theirs = nlohmann::json::parse(part);
            for (auto it = theirs.begin(); it != theirs.end(); ++it) {
                const auto i = std::stoul(it.key());
                if (i < points.size() && !mine(i))
                    readMeasured(it.value(), points[i]);
            }
        }
        for (PpaPoint &p : points) {
            Workload w = r.workload;
            w.dtype = r.dtype;
            apportionEnergy(p, local ? *local : energyClass, w);
            if (p.measured)
                report.energySource = p.measured->energySource;
            if (r.onPoint && root)
                r.onPoint(p);
        }
    }
    if (run && r.writeToExperiment)
        ExperimentFile::setPpa(experimentPath, run->info.id, points);
    report.points = std::move(points);
    return report;
}

} // namespace

} // namespace blockscope::ppa
