#include "ppajob.h"

#include "common/contenthash.h"
#include "common/formaterror.h"
#include "eval/runsetup.h"
#include "jobs/jobcontext.h"
#include "log/logline.h"
#include "model/decoder.h"
#include "model/modelhandle.h"
#include "store/experimentcheck.h"
#include "store/experimentfile.h"
#include "store/experimentlock.h"

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

} // namespace

PpaReport runPpaJob(const PpaRequest &r, JobContext &job)
{
    // A damaged experiment file is refused before any work, and never opened here if it would crash.
    std::optional<ExperimentWriteLock> writeLock;
    if (!r.experimentPath.empty()) {
        checkExistingExperiment(r.experimentPath);
        if (r.writeToExperiment)
            writeLock.emplace(r.experimentPath); // this process's to write until the points are in it
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
    if (!r.experimentPath.empty()) {
        const Experiment e = ExperimentFile::read(r.experimentPath);
        if (e.runs.empty())
            throw UsageError("--experiment: " + r.experimentPath + " has no runs");
        if (r.runId.empty()) {
            run = e.runs.back();
        } else {
            const ExperimentRun *found = e.find(r.runId);
            if (!found)
                throw UsageError("--run: " + r.experimentPath + " has no run \"" + r.runId + "\"");
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

    std::unique_ptr<Decoder> decoder;
    if (r.measure || r.calibrate)
        decoder = std::make_unique<Decoder>(model, decoderOptionsFor(r.device, r.dtype));
    const DeviceSpec &energyClass = energyClassFor(table, r.device.rfind("cuda", 0) == 0 ? "gpu" : "cpu");
    std::optional<DeviceSpec> local;
    if (r.calibrate)
        local = calibrateLocalDevice(r.device, energyClass, &job);

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
        if (r.measure) {
            MeasureOptions mo;
            mo.workload = w;
            mo.unitBreakdown = r.unitBreakdown;
            mo.powercapRoot = r.powercapRoot;
            p.measured = measureConfiguration(*decoder, p.mask, mo, p.costs, local ? *local : energyClass, &job);
            report.energySource = p.measured->energySource;
        }
        apportionEnergy(p, local ? *local : energyClass, w);
        job.progress(static_cast<double>(i + 1), static_cast<double>(points.size()));
        if (r.onPoint)
            r.onPoint(p);
    }
    if (run && r.writeToExperiment)
        ExperimentFile::setPpa(r.experimentPath, run->info.id, points);
    report.points = std::move(points);
    return report;
}

} // namespace blockscope::ppa
