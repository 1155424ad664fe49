#include "commands.h"

#include "clicommon.h"
#include "common/formaterror.h"
#include "dist/processgroup.h"
#include "jobs/jobcontext.h"
#include "jobs/sparsejobs.h"
#include "progressbar.h"
#include "ranks.h"
#include "sparse/gates.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

namespace blockscope::cli {

namespace {

using namespace blockscope::sparse;

void addTrain(CLI::App &gates, int &exitCode)
{
    auto r = std::make_shared<GateTrainJob>();
    auto quiet = std::make_shared<bool>(false);
    auto every = std::make_shared<int>(10);
    auto nproc = std::make_shared<int>(1);
    auto cmd = gates.add_subcommand("train",
        "Train SeerAttention gates on a frozen model (distillation from the block-level attention map, "
        "seerattention.md §3-4) and write a .seergate.safetensors file");
    addModelArgument(cmd, r->modelPath);
    cmd->add_option("--calib", r->calibPath,
           "Training text: its calibration paragraphs train, its evaluation "
           "paragraphs are held out")
        ->required();
    cmd->add_option("--out", r->outPath, "Gate file to write (.seergate.safetensors)")->required();
    cmd->add_option("--steps", r->options.steps, "Optimiser steps")->capture_default_str();
    cmd->add_option("--batch", r->options.batch, "Sequences per step")->capture_default_str();
    cmd->add_option("--lr", r->options.lr, "Peak learning rate (AdamW, cosine to --min-lr)")->capture_default_str();
    cmd->add_option("--min-lr", r->options.minLr, "Learning rate at the end of the cosine")->capture_default_str();
    cmd->add_option("--warmup", r->options.warmup, "Linear warm-up steps")->capture_default_str();
    cmd->add_option("--weight-decay", r->options.weightDecay, "AdamW decoupled weight decay")->capture_default_str();
    cmd->add_option("--block", r->options.blockSize, "Block size B (tokens per gate block)")->capture_default_str();
    cmd->add_option("--gate-dim", r->options.gateDim, "Gate dimension d_g (0: the head dimension)")
        ->capture_default_str();
    cmd->add_option("--seed", r->options.seed, "Seed (initialisation and batch order)")->capture_default_str();
    cmd->add_option("--eval-every", r->options.evalEvery, "Held-out evaluation every N steps (0: only at the end)")
        ->capture_default_str();
    cmd->add_option("--calib-windows", r->calibrationWindows, "Calibration windows to train on (0: all)")
        ->capture_default_str();
    cmd->add_option("--held-out", r->heldOutWindows, "Held-out windows (eval paragraphs of --calib; 0: none)")
        ->capture_default_str();
    cmd->add_option("--protocol", r->protocol, "Protocol preset for the windows (tiny-ts, sleb, ...)")
        ->capture_default_str();
    cmd->add_option("--context", r->context, "Tokens per window (default: the preset's)");
    addDeviceOption(cmd, r->device);
    cmd->add_option("--tokenizer", r->tokenizerPath, "Tokenizer file (default: the one beside or inside the model)");
    cmd->add_flag("--resume", r->resume,
        "Continue from the training state saved beside --out (with ranks, every rank reads it there)");
    cmd->add_option("--threads", r->threads, "CPU threads of each process (0: LibTorch's default)")
        ->capture_default_str()
        ->check(CLI::Range(0, 4096));
    addNprocOption(cmd, *nproc);
    cmd->add_option("--print-every", *every, "Print the loss every N steps")->capture_default_str();
    cmd->add_flag("--quiet", *quiet, "Print only the summary");
    cmd->callback([r, quiet, every, nproc, &exitCode] {
        exitCode = guarded("gates train", [&]() -> int {
            // Data parallel over windows: --nproc launches the ranks, torchrun's variables make this one.
            std::unique_ptr<dist::Group> group;
            if (const auto launched = launchOrJoin(*nproc, group))
                return *launched;
            const bool root = group == nullptr || group->isRoot();
            if (!root)
                *quiet = true; // rank 0 prints the losses and the summary
            GateTrainJob req = *r;
            req.group = group.get();
            CommandJob command;
            ProgressBar &bar = command.bar();
            JobContext &job = command.context();
            req.onStep = [&](const GateTrainStep &s) {
                if (*quiet || *every <= 0 || (s.step + 1) % *every != 0)
                    return;
                bar.finish();
                char line[256];
                std::snprintf(line, sizeof line, "step %5lld  lr %.3e  loss %.6f  %7.1f s\n",
                    static_cast<long long>(s.step + 1), s.lr, s.loss, s.seconds);
                std::cout << line << std::flush;
            };
            req.onEval = [&](const GateEvalPoint &e) {
                if (*quiet)
                    return;
                bar.finish();
                char line[256];
                std::snprintf(line, sizeof line,
                    "eval at step %lld: held-out KL %.6f  recall@%.2f gates %.4f / static %.4f / random %.4f  "
                    "density@τ=%g %.4f\n",
                    static_cast<long long>(e.step), e.kl, req.options.evalDensity, e.recallAtDensity,
                    e.recallStaticAtDensity, e.recallRandomAtDensity, req.options.evalThreshold, e.densityAtThreshold);
                std::cout << line << std::flush;
            };
            try {
                const GateTrainResult res = runGateTrainJob(req, job);
                bar.finish();
                if (!root)
                    return static_cast<int>(ExitOk);
                const GateConfig cfg = GateSet::readConfig(req.outPath);
                std::cout << "gates: " << req.outPath << " (" << gateParameterCount(cfg) << " parameters, block "
                          << cfg.blockSize << ", d_g " << cfg.gateDim << ")" << (res.resumed ? ", resumed" : "")
                          << "\n";
                if (!res.steps.empty())
                    std::cout << "final training loss: " << res.steps.back().loss << " after "
                              << res.steps.back().step + 1 << " steps, " << res.steps.back().seconds << " s\n";
                if (res.evals.size() >= 2)
                    std::cout << "held-out KL: " << res.evals.front().kl << " untrained -> " << res.evals.back().kl
                              << " trained; recall@" << req.options.evalDensity << ": "
                              << res.evals.front().recallAtDensity << " -> " << res.evals.back().recallAtDensity
                              << " (static pattern " << res.evals.back().recallStaticAtDensity << ", random "
                              << res.evals.back().recallRandomAtDensity << ")\n";
            } catch (const JobCancelled &) {
                bar.finish();
                std::cerr << "gates train: cancelled; the state so far is in " << req.outPath
                          << " (continue with --resume)\n";
                return static_cast<int>(ExitCancelled);
            }
            return static_cast<int>(ExitOk);
        });
    });
}

void addEval(CLI::App &gates, int &exitCode)
{
    auto r = std::make_shared<SparsitySweepJob>();
    auto thresholds = std::make_shared<std::vector<double>>();
    auto densities = std::make_shared<std::vector<double>>();
    auto source = std::make_shared<std::string>("gates");
    auto noLastDense = std::make_shared<bool>(false);
    auto forceDiagonal = std::make_shared<bool>(false);
    auto forceSink = std::make_shared<bool>(false);
    auto json = std::make_shared<bool>(false);
    auto cmd = gates.add_subcommand("eval",
        "Perplexity, sparsity and attention-mass recall per layer with block-sparse prefill chosen by gates "
        "(or a baseline) at thresholds or densities");
    addModelArgument(cmd, r->modelPath);
    cmd->add_option("--gates", r->gatesPath, "Gate file (.seergate.safetensors)");
    cmd->add_option("--text", r->textPath, "Evaluation text (its evaluation paragraphs under the protocol)")
        ->required();
    cmd->add_option("--threshold", *thresholds, "Threshold(s) τ on softmax(S), e.g. 0.002,0.01")->delimiter(',');
    cmd->add_option("--density", *densities, "Top-k density ρ of the causal triangle, e.g. 0.5,0.2")->delimiter(',');
    cmd->add_option("--masks", *source,
           "Where masks come from: gates, static (first block + local window), "
           "random, oracle (the true block map: top-k of it, or a threshold on it)")
        ->capture_default_str()
        ->check(CLI::IsMember({"gates", "static", "random", "oracle"}));
    cmd->add_flag("--no-last-block-dense", *noLastDense, "Do not force the last two query-block rows dense");
    cmd->add_flag("--force-diagonal", *forceDiagonal, "Always keep each query block's own (diagonal) block");
    cmd->add_flag("--force-sink", *forceSink, "Always keep key block 0");
    cmd->add_option("--windows", r->windows, "Evaluation windows (0: all)")->capture_default_str();
    cmd->add_option("--protocol", r->protocol, "Protocol preset")->capture_default_str();
    cmd->add_option("--context", r->context, "Tokens per window (default: the preset's)");
    addDeviceOption(cmd, r->device);
    cmd->add_option("--tokenizer", r->tokenizerPath, "Tokenizer file");
    cmd->add_option("--experiment", r->experimentPath,
        "Add the sweep, with a PPA point per setting, to this experiment file (created if absent)");
    cmd->add_option("--label", r->label, "A label for the sweep in --experiment");
    cmd->add_option("--predict-for", r->predictFor, "Roofline predictions per point for these devices (e.g. H100)")
        ->delimiter(',');
    cmd->add_flag("--json", *json, "Print JSON instead of tables");
    cmd->callback([r, thresholds, densities, source, noLastDense, forceDiagonal, forceSink, json, &exitCode] {
        exitCode = guarded("gates eval", [&] {
            SparsitySweepJob req = *r;
            req.source = maskSourceFromName(*source).value_or(MaskSource::Gates);
            for (double t : *thresholds)
                req.rules.push_back({MaskRule::Kind::Threshold, t, !*noLastDense, *forceDiagonal, *forceSink});
            for (double d : *densities)
                req.rules.push_back({MaskRule::Kind::Density, d, !*noLastDense, *forceDiagonal, *forceSink});
            if (req.rules.empty())
                throw UsageError("give --threshold or --density (one or more values)");
            CommandJob command;
            ProgressBar &bar = command.bar();
            JobContext &job = command.context();
            const SparsitySweepReport report = runSparsitySweep(req, job);
            const auto &results = report.points;
            bar.finish();
            nlohmann::json out = nlohmann::json::array();
            for (const SparseEvalResult &e : results) {
                if (*json) {
                    nlohmann::json layers = nlohmann::json::array();
                    for (const auto &l : e.layers)
                        layers.push_back({{"tile_density", l.tileDensity}, {"pair_density", l.pairDensity},
                            {"recall_mean", l.recallMean}, {"recall_p5", l.recallP5}, {"recall_min", l.recallMin},
                            {"empty_rows", l.emptyRows}});
                    out.push_back({{"masks", maskSourceName(req.source)}, {"rule", e.rule.describe()},
                        {"perplexity", e.perplexity}, {"dense_perplexity", e.densePerplexity},
                        {"tile_density", e.mean.tileDensity}, {"sparsity", 1.0 - e.mean.tileDensity},
                        {"recall_mean", e.mean.recallMean}, {"tokens", e.tokens}, {"layers", layers},
                        {"prefill_flops_per_token", e.ppa.costs.prefillFlopsPerToken},
                        {"pair_density", e.mean.pairDensity}});
                    continue;
                }
                char line[256];
                std::snprintf(line, sizeof line,
                    "%s, %s: perplexity %.4f (dense %.4f), tile density %.4f (sparsity %.4f), recall mean %.4f "
                    "p5 %.4f min %.4f, empty rows %lld\n",
                    maskSourceName(req.source), e.rule.describe().c_str(), e.perplexity, e.densePerplexity,
                    e.mean.tileDensity, 1.0 - e.mean.tileDensity, e.mean.recallMean, e.mean.recallP5, e.mean.recallMin,
                    static_cast<long long>(e.mean.emptyRows));
                std::cout << line;
                std::snprintf(line, sizeof line, "  modelled: %.4g prefill FLOPs/token at pair density %.4f",
                    e.ppa.costs.prefillFlopsPerToken, e.mean.pairDensity);
                std::cout << line;
                for (const ppa::Prediction &p : e.ppa.predictions) {
                    std::snprintf(line, sizeof line, "; %s %.4g tokens/s", p.device.c_str(), p.prefillTokensPerSecond);
                    std::cout << line;
                }
                std::cout << "\n";
                std::cout << "  layer  tile-dens  learned  pair-dens  recall-mean  recall-p5  recall-min  empty\n";
                for (std::size_t l = 0; l < e.layers.size(); ++l) {
                    const auto &s = e.layers[l];
                    std::snprintf(line, sizeof line, "  %5zu  %9.4f  %7.4f  %9.4f  %11.4f  %9.4f  %10.4f  %5lld\n", l,
                        s.tileDensity, s.tileDensityLearned, s.pairDensity, s.recallMean, s.recallP5, s.recallMin,
                        static_cast<long long>(s.emptyRows));
                    std::cout << line;
                }
            }
            if (*json)
                std::cout << out.dump(2) << "\n";
            if (!report.sweepId.empty() && !*json)
                std::cout << "wrote " << report.sweepId << " to " << req.experimentPath << "\n";
            return static_cast<int>(ExitOk);
        });
    });
}

} // namespace

void addGatesCommand(CLI::App &app, int &exitCode)
{
    auto gates = app.add_subcommand("gates", "SeerAttention gates: train them, evaluate the sparse model they give");
    gates->require_subcommand(1);
    addTrain(*gates, exitCode);
    addEval(*gates, exitCode);
}

} // namespace blockscope::cli
