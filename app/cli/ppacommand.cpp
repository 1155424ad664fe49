#include "commands.h"

#include "clicommon.h"
#include "common/formaterror.h"
#include "common/numbertext.h"
#include "dist/processgroup.h"
#include "jobs/jobcontext.h"
#include "jobs/ppajob.h"
#include "progressbar.h"
#include "ranks.h"

#include "store/ppajson.h"
#include <CLI/CLI.hpp>
#include <array>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

namespace blockscope::cli {

namespace {

using namespace blockscope::ppa;
using nlohmann::json;

std::string num(double v, const char *fmt = "%.4g")
{
    return numberText(v, fmt, "-");
}

// "1234 (1200-1260) measured" style cell.
// The tables' one-letter provenance: m measured, d derived, M modelled.
std::string provenanceMark(Provenance p)
{
    return p == Provenance::Measured ? "m" : p == Provenance::Derived ? "d" : "M";
}

std::string figure(const Figure &f, double scale = 1.0, const char *fmt = "%.4g")
{
    if (!f.known())
        return "-";
    std::string s = num(f.value * scale, fmt);
    if (std::isfinite(f.min))
        s += " [" + num(f.min * scale, fmt) + "-" + num(f.max * scale, fmt) + "]";
    return s + " " + provenanceMark(f.provenance);
}

// "-" where there is no gap to print (measuredModelledGap: unknown, or sparse attention modelled
// against a dense measurement).
std::string gap(const PpaPoint &p, double measured, double modelled)
{
    const double g = measuredModelledGap(p, measured, modelled);
    return std::isfinite(g) ? num(100.0 * g, "%+.0f%%") : "-";
}

} // namespace

void printPpaTable(const std::vector<PpaPoint> &points)
{
    std::printf("%-32s %9s %8s %8s %8s %8s  %-22s %9s %5s  %-20s %8s %5s  %-10s %-10s\n", "configuration", "params",
        "MB", "KV B/tok", "PPL", "KL", "prefill tok/s", "modelled", "gap", "decode ms/tok", "modelled", "gap",
        "mJ/tok pre", "mJ/tok dec");
    for (const PpaPoint &p : points) {
        const Prediction *local = nullptr;
        for (const Prediction &q : p.predictions)
            if (q.calibrated)
                local = &q;
        const Measurement *m = p.measured ? &*p.measured : nullptr;
        const std::string label = p.label.size() > 32 ? p.label.substr(0, 31) + "~" : p.label;
        std::printf("%-32s %9lld %8s %8s %8s %8s  %-22s %9s %5s  %-20s %8s %5s  %-10s %-10s\n", label.c_str(),
            static_cast<long long>(p.costs.paramsKept), num(p.costs.storedBytes / 1e6, "%.3f").c_str(),
            num(p.costs.kvBytesPerToken, "%.0f").c_str(), num(p.perplexity, "%.3f").c_str(),
            num(p.klToDense, "%.4f").c_str(), m ? figure(m->prefillTokensPerSecond, 1, "%.0f").c_str() : "-",
            local ? num(local->prefillTokensPerSecond, "%.0f").c_str() : "-",
            m && local ? gap(p, m->prefillTokensPerSecond.value, local->prefillTokensPerSecond).c_str() : "-",
            m ? figure(m->decodeMsPerToken, 1, "%.3f").c_str() : "-",
            local ? num(local->decodeMsPerToken, "%.3f").c_str() : "-",
            m && local ? gap(p, m->decodeMsPerToken.value, local->decodeMsPerToken).c_str() : "-",
            m ? figure(m->prefillJoulesPerToken, 1e3, "%.3g").c_str() : "-",
            m ? figure(m->decodeJoulesPerToken, 1e3, "%.3g").c_str() : "-");
    }
    std::printf(
        "m = measured (median [min-max]), d = derived from measured figures, M = modelled; modelled = roofline on "
        "this machine, calibrated; no gap where the point's attention is sparse (the measurement runs dense "
        "attention)\n");
}

namespace {

void printPredictions(const std::vector<PpaPoint> &points)
{
    bool any = false;
    for (const PpaPoint &p : points)
        for (const Prediction &q : p.predictions)
            any = any || !q.calibrated;
    if (!any)
        return;
    std::printf("\nroofline predictions (modelled):\n%-32s %-26s %12s %12s %11s %11s\n", "configuration", "device",
        "prefill tok/s", "decode ms", "mJ/tok pre", "mJ/tok dec");
    for (const PpaPoint &p : points)
        for (const Prediction &q : p.predictions) {
            if (q.calibrated)
                continue;
            const std::string label = p.label.size() > 32 ? p.label.substr(0, 31) + "~" : p.label;
            std::printf("%-32s %-26s %12s %12s %11s %11s\n", label.c_str(), q.device.c_str(),
                num(q.prefillTokensPerSecond, "%.0f").c_str(), num(q.decodeMsPerToken, "%.4f").c_str(),
                num(q.prefillJoulesPerToken * 1e3, "%.3g").c_str(), num(q.decodeJoulesPerToken * 1e3, "%.3g").c_str());
        }
}

void printBreakdown(const PpaPoint &p)
{
    // Shares as the app's bars take them (ppa::unitShares), per unit and per whole block.
    constexpr ShareMetric metrics[]
        = {ShareMetric::Params, ShareMetric::Flops, ShareMetric::Bytes, ShareMetric::Time, ShareMetric::Energy};
    auto share = [](double v) { return std::isfinite(v) ? num(v, "%.1f") + "%" : std::string("-"); };
    auto rows = [&](const std::vector<UnitCost> &units, bool withTime) {
        std::vector<std::vector<double>> shares;
        for (ShareMetric m : metrics)
            shares.push_back(unitShares(units, m));
        for (std::size_t i = 0; i < units.size(); ++i) {
            const UnitCost &u = units[i];
            if (u.removed) {
                std::printf("%-10s %8s\n", u.unit.c_str(), "removed");
                continue;
            }
            const std::string energy = share(shares[4][i])
                + (std::isfinite(shares[4][i]) ? " " + provenanceMark(u.joulesPerToken.provenance) : std::string());
            std::printf("%-10s %8s %10s %10s %10s %10s %14s\n", u.unit.c_str(), share(shares[0][i]).c_str(),
                share(shares[1][i]).c_str(), share(shares[2][i]).c_str(), share(shares[3][i]).c_str(), energy.c_str(),
                withTime ? figure(u.seconds, 1e3, "%.3f").c_str() : "");
        }
    };
    std::printf("\nblock-level shares of \"%s\" (%% of the kept total; time measured per unit; energy m measured, "
                "d derived, M modelled):\n",
        p.label.c_str());
    std::printf(
        "%-10s %8s %10s %10s %10s %10s %14s\n", "unit", "params", "FLOPs", "bytes", "time", "energy", "time (ms)");
    rows(p.costs.units, true);
    // Whole blocks: the sum of their kept sublayers.
    std::vector<UnitCost> blocks;
    for (const UnitCost &b : unitsByBlock(p.costs.units))
        if (b.layer >= 0)
            blocks.push_back(b);
    rows(blocks, false);
}

} // namespace

void addPpaCommand(CLI::App &app, int &exitCode)
{
    auto r = std::make_shared<PpaRequest>();
    auto predict = std::make_shared<std::vector<std::string>>();
    auto json = std::make_shared<bool>(false);
    auto list = std::make_shared<bool>(false);
    auto noMeasure = std::make_shared<bool>(false);
    auto noCalibrate = std::make_shared<bool>(false);
    auto noBreakdown = std::make_shared<bool>(false);
    auto nproc = std::make_shared<int>(1);
    auto cmd = app.add_subcommand("ppa",
        "Power, performance and area of the dense model and of every step of a pruning run: measured here, "
        "modelled for named devices, written to the experiment file");
    addModelArgument(cmd, r->modelPath);
    cmd->add_option("--experiment", r->experimentPath, "Experiment file whose run's steps get PPA points");
    cmd->add_option("--run", r->runId, "Run id (default: the last run of --experiment)");
    addDeviceOption(cmd, r->device);
    cmd->add_option("--dtype", r->dtype, "float32, bfloat16 or float16")
        ->capture_default_str()
        ->check(CLI::IsMember({"float32", "bfloat16", "float16"}));
    cmd->add_option("--threads", r->threads, "CPU threads (0: LibTorch's default)")->capture_default_str();
    cmd->add_option("--batch", r->workload.batch, "Prefill batch")->capture_default_str();
    cmd->add_option("--seq", r->workload.seq, "Prefill sequence length")->capture_default_str();
    cmd->add_option("--decode-tokens", r->workload.decodeTokens, "Decode steps after the prefill (0: none)")
        ->capture_default_str();
    cmd->add_option("--runs", r->workload.runs, "Timed runs (the median is reported)")->capture_default_str();
    cmd->add_option("--warmup", r->workload.warmup, "Untimed warm-up runs")->capture_default_str();
    cmd->add_option("--attention-density", r->workload.attentionDensity,
           "Pair density of block-sparse prefill attention for the modelled figures (1: dense)")
        ->capture_default_str();
    cmd->add_option("--predict-for", *predict, "Devices to predict for, from the table (e.g. H100,A100)")
        ->delimiter(',');
    cmd->add_option("--devices", r->devicesPath, "Your own device table (JSON, the layout of the built-in one)");
    cmd->add_flag("--list-devices", *list, "Print the device table with the source of every figure and exit");
    cmd->add_flag("--no-measure", *noMeasure, "Only the modelled figures (no timing on this machine)");
    cmd->add_flag("--no-calibrate", *noCalibrate, "Do not calibrate this machine's roofline");
    cmd->add_flag("--no-breakdown", *noBreakdown, "Do not time every unit on its own");
    cmd->add_flag(
        "--no-write", [r](std::int64_t) { r->writeToExperiment = false; }, "Do not write the points into --experiment");
    cmd->add_flag("--json", *json, "Print JSON");
    addNprocOption(cmd, *nproc);
    cmd->callback([r, predict, json, list, noMeasure, noCalibrate, noBreakdown, nproc, &exitCode] {
        exitCode = guarded("ppa", [&] {
            if (*list) {
                const DeviceTable t
                    = r->devicesPath.empty() ? DeviceTable::builtIn() : DeviceTable::load(r->devicesPath);
                for (const DeviceSpec &d : t.devices) {
                    std::printf("%s (%s): bandwidth %.0f GB/s, power %.0f W, %.3g pJ/FLOP, %.3g pJ/byte; peak",
                        d.name.c_str(), d.kind.c_str(), d.bandwidth / 1e9, d.boardPower, d.joulesPerFlop * 1e12,
                        d.joulesPerByte * 1e12);
                    for (const auto &[dtype, f] : d.peakFlops)
                        std::printf(" %s %.4g TFLOP/s", dtype.c_str(), f / 1e12);
                    std::printf("\n");
                    for (const auto &[field, src] : d.sources)
                        std::printf("    %s: %s\n", field.c_str(), src.c_str());
                }
                return static_cast<int>(ExitOk);
            }
            // Each rank measures a share of the configurations; rank 0 prints and writes.
            std::unique_ptr<dist::Group> group;
            if (const auto launched = launchOrJoin(*nproc, group))
                return *launched;
            PpaRequest req = *r;
            req.group = group.get();
            req.predictFor = *predict;
            req.measure = !*noMeasure;
            req.calibrate = !*noCalibrate && !*noMeasure;
            req.unitBreakdown = !*noBreakdown;
            CommandJob command;
            ProgressBar &bar = command.bar();
            JobContext &job = command.context();
            const PpaReport report = runPpaJob(req, job);
            bar.finish();
            if (group != nullptr && !group->isRoot())
                return static_cast<int>(ExitOk);
            if (*json) {
                nlohmann::json out = nlohmann::json::array();
                for (const PpaPoint &p : report.points)
                    out.push_back(ppaPointJson(p));
                std::cout << out.dump(2) << "\n";
                return static_cast<int>(ExitOk);
            }
            if (!report.points.empty() && report.points.front().measured) {
                const Measurement &m = *report.points.front().measured;
                std::printf("measured on %s, %s, %d threads, prefill batch %d x %d tokens, %d decode tokens, "
                            "%d runs after %d warm-up; energy: %s\n",
                    m.device.c_str(), m.dtype.c_str(), m.threads, m.batch, m.seq, m.decodeTokens, req.workload.runs,
                    req.workload.warmup, m.energySource.c_str());
            }
            printPpaTable(report.points);
            printPredictions(report.points);
            if (!report.points.empty())
                printBreakdown(report.points.front());
            if (!report.runId.empty() && req.writeToExperiment)
                std::printf("\nwrote %zu PPA points to %s (run %s)\n", report.points.size(), req.experimentPath.c_str(),
                    report.runId.c_str());
            return static_cast<int>(ExitOk);
        });
    });
}

} // namespace blockscope::cli
