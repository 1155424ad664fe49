#include "commands.h"

#include "clicommon.h"
#include "common/formaterror.h"
#include "dist/processgroup.h"
#include "jobs/jobcontext.h"
#include "jobs/ppajob.h"
#include "jobs/prunejob.h"
#include "ppa/ppa.h"
#include "progressbar.h"
#include "ranks.h"
#include "store/experimentcheck.h"
#include "store/experimentfile.h"
#include "store/stepjson.h"
#include "store/traceexport.h"

#ifdef BLOCKSCOPE_CLI_RENDER
#include "report/report.h"

#include <QGuiApplication>
#endif

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace blockscope::cli {

namespace {

// The search as `prune` and `prune-json` run it, in this process (alone or as one rank). In a
// rank a launcher started for the app (reportsProgressAsLines), rank 0 also prints the run, every
// step and every candidate as "@run", "@step" and "@candidate" JSON lines for the app to follow.
int runPrune(PruneRequest req, bool quiet, bool withPpa, int nproc)
{
    // With --nproc this process launches the ranks; under torchrun (or that launcher) it is one.
    std::unique_ptr<dist::Group> group;
    if (const auto launched = launchOrJoin(nproc, group))
        return *launched;
    const bool root = group == nullptr || group->isRoot();
    req.group = group.get();
    if (!root) { // rank 0 prints the steps and the summary, and gives the points
        quiet = true;
        withPpa = false;
    }
    const bool lines = root && reportsProgressAsLines();
    if (lines) {
        req.onRunStarted = [](const RunInfo &info) {
            std::cout << "@run "
                      << nlohmann::json{{"id", info.id},
                             {"dense_perplexity", stepjson::exactNumber(info.densePerplexity)}}
                             .dump()
                      << std::endl;
        };
        req.onCandidate = [](const CandidateRecord &c) {
            std::cout << "@candidate " << stepjson::candidate(c).dump() << std::endl;
        };
    }
    CommandJob command;
    ProgressBar &bar = command.bar();
    JobContext &job = command.context();
    auto printStep = [&](const TraceStep &s) {
        if (lines)
            std::cout << "@step " << stepjson::step(s, true).dump() << std::endl;
        if (quiet)
            return;
        bar.finish();
        char line[512];
        std::snprintf(line, sizeof line, "step %3d  %-28s score %-12.6g ppl %-10.4f kl %-9.5f %6.1f s%s\n", s.index,
            unitsLabel(s.chosen).substr(0, 28).c_str(), s.chosenScore, s.perplexity, s.klToDense, s.seconds,
            s.nearTie ? "  (near tie)" : "");
        std::cout << line << std::flush;
    };
    int rc = ExitOk;
    try {
        const PruneJobReport report = runPruneJob(req, job, printStep);
        bar.finish();
        if (!root)
            return ExitOk;
        std::cout << "run " << report.runId << " in " << req.experimentPath << ": "
                  << pruneMethodName(req.options.method) << ", " << report.result.steps.size() << " steps"
                  << (report.resumedSteps ? " (" + std::to_string(report.resumedSteps) + " resumed)" : "")
                  << (report.resumedCandidates
                             ? ", " + std::to_string(report.resumedCandidates) + " candidate scores reused"
                             : "")
                  << ", " << report.seconds << " s\n";
        if (req.options.evaluateSteps)
            std::cout << "dense perplexity: " << report.result.densePerplexity << "\n";
        std::cout << "removal order: " << unitsLabel(report.result.removalOrder) << "\n";
        if (req.options.earlyStop && req.options.method == PruneMethod::Sleb) {
            int stopped = 0, scored = 0;
            for (const TraceStep &s : report.result.steps)
                for (const CandidateScore &c : s.candidates) {
                    ++scored;
                    stopped += c.lowerBound;
                }
            std::cout << "early stop: " << stopped << " of " << scored
                      << " candidates stopped once they could not win (their scores are lower bounds)\n";
        }
        std::cout << "calibration: " << report.calibration.oneLine() << "\n";
        if (req.options.evaluateSteps)
            std::cout << "evaluation:  " << report.evaluation.oneLine() << "\n";
        if (withPpa) {
            ppa::PpaRequest p;
            p.modelPath = req.modelPath;
            p.experimentPath = req.experimentPath;
            p.runId = report.runId;
            p.device = req.device;
            p.dtype = req.dtype;
            const ppa::PpaReport points = ppa::runPpaJob(p, job);
            bar.finish();
            std::cout << "\nPPA points (written next to the run):\n";
            printPpaTable(points.points);
        }
    } catch (const JobCancelled &) {
        bar.finish();
        std::cerr << "prune: cancelled; the completed steps are in " << req.experimentPath
                  << " (continue with --resume)\n";
        rc = ExitCancelled;
    }
    return rc;
}

} // namespace

void addPruneCommand(CLI::App &app, int &exitCode)
{
    auto r = std::make_shared<PruneRequest>();
    auto method = std::make_shared<std::string>("sleb");
    auto protect = std::make_shared<std::vector<int>>();
    auto quiet = std::make_shared<bool>(false);
    auto withPpa = std::make_shared<bool>(false);
    auto nproc = std::make_shared<int>(1);
    auto cmd = app.add_subcommand("prune",
        "Run a layer-pruning search (SLEB, FinerCut, EvoPress, ShortGPT, angular distance) and write every step "
        "to an experiment file as it is produced");
    addModelArgument(cmd, r->modelPath);
    cmd->add_option("--method", *method, "sleb, finercut, evopress, shortgpt or angular")
        ->capture_default_str()
        ->check(CLI::IsMember({"sleb", "finercut", "evopress", "shortgpt", "angular"}));
    cmd->add_option("--target", r->options.target,
           "How much to remove: a count (blocks; FinerCut: sublayers; EvoPress: sublayers of each kind) or a "
           "fraction in (0, 1); FinerCut 0 = full ranking")
        ->required();
    cmd->add_option("--calib", r->calibrationPath, "Calibration text (tiny-ts: its calibration paragraphs)")
        ->required();
    cmd->add_option("--eval-text", r->evaluationPath,
        "Text for each step's perplexity (default: the evaluation paragraphs of --calib)");
    cmd->add_option("--eval-windows", r->evaluationWindows, "Evaluation windows per step (0: all)")
        ->capture_default_str();
    cmd->add_flag(
        "--no-eval", [r](std::int64_t) { r->options.evaluateSteps = false; },
        "Do not evaluate perplexity and KL after each step");
    cmd->add_option("--protocol", r->protocol, "Protocol preset: tiny-ts, sleb, evopress, sliding, finercut")
        ->capture_default_str();
    cmd->add_option("--context", r->context, "Context length T (default: the preset's, capped by the model's)");
    cmd->add_option("--calib-windows", r->options.calibrationWindows,
        "Calibration windows (default: the protocol's budget; tiny-ts: SLEB 16, FinerCut 10, others 64; sleb 128; "
        "finercut 10; evopress 2^17 tokens; shortgpt/angular outside tiny-ts: all)");
    cmd->add_option("--seed", r->options.seed, "Seed (EvoPress)")->capture_default_str();
    cmd->add_option("--batch", r->options.batch, "Windows per forward pass (0: all at once)")->capture_default_str();
    cmd->add_flag(
        "--naive", [r](std::int64_t) { r->options.cached = false; },
        "Re-run the whole model for every candidate, as the official codes do (no block-boundary cache)");
    cmd->add_flag("--early-stop", r->options.earlyStop,
        "SLEB: stop a candidate once its running NLL sum shows it cannot win; the chosen blocks and their "
        "scores are unchanged, the stopped candidates' scores are lower bounds (flagged in the trace)");
    cmd->add_option("--early-barrier", r->options.earlyBarrier, "SLEB: leading alive blocks never removed")
        ->capture_default_str();
    cmd->add_option("--latter-barrier", r->options.latterBarrier, "SLEB: trailing alive blocks never removed")
        ->capture_default_str();
    cmd->add_option("--protect", *protect, "Blocks no method may remove, e.g. 0,1")->delimiter(',');
    cmd->add_option("--level", r->options.finercutLevel, "FinerCut units: am, a, m or block")
        ->capture_default_str()
        ->check(CLI::IsMember({"am", "a", "m", "block"}));
    cmd->add_option("--metric", r->options.finercutMetric, "FinerCut score: js, kl or norm")
        ->capture_default_str()
        ->check(CLI::IsMember({"js", "kl", "norm"}));
    cmd->add_option("--exclude-fraction", r->options.excludeFraction, "FinerCut x: early layers held out at first")
        ->capture_default_str();
    cmd->add_option("--generations", r->options.generations, "EvoPress generations (0: floor(k(L-k)/1.5))")
        ->capture_default_str();
    cmd->add_option("--offspring", r->options.offspring, "EvoPress offspring per generation");
    cmd->add_option("--initial-genomes", r->options.initialGenomes, "EvoPress: random genomes the search starts from")
        ->capture_default_str();
    cmd->add_option("--initial-tokens", r->options.initialTokens,
        "EvoPress: calibration tokens the initial genomes are scored on (default: 2048; tiny-ts 1024)");
    cmd->add_option("--stage-tokens", r->options.stageTokens,
           "EvoPress: calibration tokens of each selection stage, e.g. 1024,8192 (default: 2048,32768; tiny-ts "
           "1024,8192)")
        ->delimiter(',');
    cmd->add_option("--stage-survivors", r->options.stageSurvivors,
           "EvoPress: survivors of each selection stage, e.g. 2,1 (the last is 1)")
        ->delimiter(',')
        ->capture_default_str();
    cmd->add_option("--fitness", r->options.evoFitness, "EvoPress fitness: kl or ppl")
        ->capture_default_str()
        ->check(CLI::IsMember({"kl", "ppl"}));
    cmd->add_option("--teacher", r->options.teacher,
           "EvoPress KL teacher on the host: float16, bfloat16, float32, or top-k (the K most likely tokens "
           "and one bucket for the rest; a lower bound of the full KL)")
        ->capture_default_str()
        ->check(CLI::IsMember({"float16", "bfloat16", "float32", "top-k"}));
    cmd->add_option("--teacher-top-k", r->options.teacherTopK, "K of a top-k teacher (>= 512)")->capture_default_str();
    cmd->add_option("--teacher-budget-mib", r->options.teacherBudgetMiB,
           "Memory the EvoPress teacher may take, in MiB; a larger teacher is refused before the run starts")
        ->capture_default_str();
    cmd->add_flag(
        "--drop-entire-block", r->options.dropEntireBlock, "EvoPress: the MLP genome copies the attention one");
    addDeviceOption(cmd, r->device);
    cmd->add_option("--dtype", r->dtype, "float32, bfloat16 or float16")
        ->capture_default_str()
        ->check(CLI::IsMember({"float32", "bfloat16", "float16"}));
    cmd->add_option("--threads", r->threads, "CPU threads of each process (0: LibTorch's default)")
        ->capture_default_str()
        ->check(CLI::Range(0, 4096));
    addNprocOption(cmd, *nproc);
    cmd->add_option("--tokenizer", r->tokenizerPath, "Tokenizer file (default: the one beside or inside the model)");
    cmd->add_option("--out", r->experimentPath, "Experiment file (HDF5); created or added to")->required();
    cmd->add_flag("--resume", r->resume, "Continue the last unfinished run of this method in --out");
    cmd->add_option("--label", r->label, "A label for the run");
    cmd->add_flag("--quiet", *quiet, "Print only the summary");
    cmd->add_flag("--ppa", *withPpa,
        "Afterwards, give the dense model and every step a PPA point (measured here and modelled; see `ppa`)");
    cmd->callback([r, method, protect, quiet, withPpa, nproc, cmd, &exitCode] {
        exitCode = guarded("prune", [&]() -> int {
            PruneRequest req = *r;
            req.options.method = pruneMethodFromName(*method);
            req.options.protectedBlocks = *protect;
            // The EvoPress budgets of tiny-ts (§2) unless the user set them.
            const PruneOptions tiny = PruneOptions::tinyTsDefaults(req.options.method);
            if (req.options.method == PruneMethod::EvoPress && req.protocol == "tiny-ts") {
                if (cmd->count("--initial-tokens") == 0)
                    req.options.initialTokens = tiny.initialTokens;
                if (cmd->count("--stage-tokens") == 0)
                    req.options.stageTokens = tiny.stageTokens;
                if (cmd->count("--offspring") == 0)
                    req.options.offspring = tiny.offspring;
            }
            return runPrune(std::move(req), *quiet, *withPpa, *nproc);
        });
    });

    // The same search from a request file, as the app starts it in several processes.
    auto file = std::make_shared<std::string>();
    auto jsonProcs = std::make_shared<int>(1);
    auto fromJson = app.add_subcommand("prune-json",
        "Run the search a JSON request file describes (what the app writes to run a search as several "
        "processes); the same output as prune");
    fromJson->add_option("request", *file, "Request file (JSON)")->required();
    addNprocOption(fromJson, *jsonProcs);
    fromJson->add_option("--threads", r->threads, "CPU threads of each process (0: the request's)");
    fromJson->callback([file, jsonProcs, r, &exitCode] {
        exitCode = guarded("prune-json", [&]() -> int {
            std::ifstream in(*file);
            if (!in)
                throw UsageError(*file + ": cannot read the request file");
            nlohmann::json j;
            try {
                j = nlohmann::json::parse(in);
            } catch (const nlohmann::json::exception &e) {
                throw UsageError(*file + ": not a JSON request (" + e.what() + ")");
            }
            PruneRequest req = pruneRequestFrom(j);
            if (r->threads > 0)
                req.threads = r->threads;
            return runPrune(std::move(req), false, false, *jsonProcs);
        });
    });
}

void addReportCommand(CLI::App &app, int &exitCode)
{
    auto path = std::make_shared<std::string>();
    auto run = std::make_shared<std::string>();
    auto format = std::make_shared<std::string>("text");
    auto cmd = app.add_subcommand("report",
        "Print the runs of an experiment file (removed units and metrics per step, PPA points) and its sparsity "
        "sweeps");
    cmd->add_option("path", *path, "Experiment file (.h5)")->required();
    cmd->add_option("--run", *run, "Only this run or sweep (e.g. run-0002, sweep-0001)");
    auto out = std::make_shared<std::string>();
    struct Document
    {
        std::string size = "720x360", unit = "px", theme = "light";
        double dpi = 150, fontScale = 1.0;
    };
    auto doc = std::make_shared<Document>();
    cmd->add_option("--format", *format,
           "text, json or csv on standard output; html (inline SVG, no network) or pdf: a document for --out with "
           "each run's trace chart, layer map, steps, protocol cards, PPA and sweeps")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "json", "csv", "html", "pdf"}));
    cmd->add_option("--out", *out, "html / pdf: the file to write (.html or .pdf)");
    cmd->add_option("--chart-size", doc->size, "html / pdf: each chart's WIDTHxHEIGHT in --chart-unit")
        ->capture_default_str();
    cmd->add_option("--chart-unit", doc->unit, "px or cm")->capture_default_str()->check(CLI::IsMember({"px", "cm"}));
    cmd->add_option("--dpi", doc->dpi, "pdf: resolution the charts are drawn at")
        ->capture_default_str()
        ->check(CLI::Range(36.0, 1200.0));
    cmd->add_option("--font-scale", doc->fontScale, "html / pdf: text size of charts and tables")
        ->capture_default_str()
        ->check(CLI::Range(0.25, 4.0));
    cmd->add_option("--theme", doc->theme, "html / pdf: light (papers), dark (slides) or greyscale (print)")
        ->capture_default_str()
        ->check(CLI::IsMember({"light", "dark", "greyscale"}));
    cmd->callback([path, run, format, out, doc, &exitCode] {
        exitCode = guarded("report", [&] {
            const bool document = *format == "html" || *format == "pdf";
            if (document != !out->empty())
                throw UsageError(
                    document ? "--format " + *format + " needs --out FILE" : "--out is for --format html or pdf");
            const Experiment e = readExperimentChecked(*path);
            if (document) {
#ifdef BLOCKSCOPE_CLI_RENDER
                report::ReportOptions o;
                if (!run->empty())
                    o.ids.push_back(*run);
                double w = 0, h = 0;
                char x = 0;
                std::istringstream size(doc->size);
                if (!(size >> w >> x >> h) || x != 'x' || !size.eof())
                    throw UsageError("--chart-size \"" + doc->size + "\" is not WIDTHxHEIGHT");
                o.chart = report::ChartStyle::sized(w, h, doc->unit);
                o.chart.fontScale = doc->fontScale;
                o.chart.theme = report::ChartStyle::themeFromName(doc->theme);
                o.dpi = doc->dpi;
                const std::string suffix = std::filesystem::path(*out).extension().string();
                if (suffix != (*format == "pdf" ? ".pdf" : ".html") && !(*format == "html" && suffix == ".htm"))
                    throw UsageError("--out " + *out + ": a " + *format + " report's name ends in ."
                        + (*format == "pdf" ? "pdf" : "html"));
                // The PDF's text needs fonts, which need a QGuiApplication; never a window.
                static int argc = 3;
                static char arg0[] = "blockscope-cli", arg1[] = "-platform", arg2[] = "offscreen";
                static char *argv[] = {arg0, arg1, arg2, nullptr};
                QGuiApplication gui(argc, argv);
                report::writeReport(*path, e, o, *out);
                std::cout << "wrote " << *out << "\n";
                return ExitOk;
#else
                throw UsageError("this build has no document renderer (built without the GUI libraries)");
#endif
            }
            if (!run->empty() && !e.find(*run) && !e.findSweep(*run))
                throw UsageError(*path + " has no run or sweep \"" + *run + "\"");
            nlohmann::json all = nlohmann::json::array();
            bool first = true;
            for (const ExperimentRun &r : e.runs) {
                if (!run->empty() && r.info.id != *run)
                    continue;
                if (*format == "json")
                    all.push_back(runToJson(r));
                else if (*format == "csv")
                    std::cout << runToCsv(r);
                else {
                    std::cout << (first ? "" : "\n") << runReportText(r);
                    if (!r.ppa.empty()) {
                        std::cout << "\nPPA points:\n";
                        printPpaTable(r.ppa);
                    }
                }
                first = false;
            }
            for (const SweepRecord &s : e.sweeps) {
                if (!run->empty() && s.id != *run)
                    continue;
                if (*format == "json") {
                    all.push_back(sweepToJson(s));
                } else if (*format == "csv") {
                    std::cout << sweepToCsv(s);
                } else {
                    std::cout << (first ? "" : "\n") << s.id << (s.label.empty() ? "" : " (" + s.label + ")")
                              << ": sparsity sweep, " << s.masks << " masks, block " << s.blockSize
                              << ", dense perplexity " << s.densePerplexity << "\n  " << s.protocol << "\n";
                    char line[256];
                    std::snprintf(line, sizeof line, "  %-34s %10s %9s %9s %10s %14s\n", "rule", "perplexity",
                        "sparsity", "pair-dens", "recall", "FLOPs/token M");
                    std::cout << line;
                    for (const SweepPoint &p : s.points) {
                        std::snprintf(line, sizeof line, "  %-34s %10.4f %9.4f %9.4f %10.4f %14.4g\n", p.rule.c_str(),
                            p.perplexity, 1 - p.tileDensity, p.pairDensity, p.recallMean,
                            p.ppa.costs.prefillFlopsPerToken);
                        std::cout << line;
                    }
                }
                first = false;
            }
            if (*format == "json")
                std::cout << all.dump(2) << "\n";
            if (e.runs.empty() && e.sweeps.empty() && *format == "text")
                std::cout << *path << ": no runs\n";
            return ExitOk;
        });
    });
}
} // namespace blockscope::cli
