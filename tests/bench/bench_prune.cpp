// Cached against naive searches (pruning.md §8), side by side in one run: SLEB and FinerCut on the
// same model and calibration windows, with the official codes' way (no cache, one window per
// forward) as the baseline. Prints unit-forwards per calibration window, wall time, and ratios;
// checks that every variant removes the same units.
//
//   bench_prune MODEL TEXT [SLEB_TARGET=2] [FINERCUT_STEPS=0 (full ranking)] [REPEATS=3] [THREADS=1]
//   bench_prune synthetic LAYERS [SLEB_TARGET] [FINERCUT_STEPS] [REPEATS] [THREADS]
//
// "synthetic" builds a random Llama of LAYERS blocks, d = 256, vocabulary 512, and scores it on
// random token windows of 256 (SLEB 16, FinerCut 10): blocks dominate the cost there, as in real
// models, while in stories260K (d = 64, V = 512) the LM head and the score are half of it.
//
// One thread by default: on a shared two-core machine OpenMP spin-waiting otherwise dominates.
#include "eval/windows.h"
#include "jobs/jobcontext.h"
#include "jobs/prunejob.h"
#include "model/decoder.h"
#include "prune/prunesearch.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <chrono>
#include <map>
#include <memory>
#include <random>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace blockscope;

namespace {

struct Variant
{
    const char *name;
    bool cached;
    int batch;
};

std::string order(const PruneResult &r)
{
    std::string s;
    for (const Unit &u : r.removalOrder)
        s += (s.empty() ? "" : ", ") + u.label();
    return s;
}

std::unique_ptr<Decoder> syntheticModel(int layers)
{
    Architecture a;
    a.family = "llama";
    a.layers = layers;
    a.hidden = 256;
    a.intermediate = 688;
    a.heads = 4;
    a.kvHeads = 4;
    a.headDim = 64;
    a.vocab = 512;
    a.context = 256;
    at::manual_seed(0);
    std::map<std::string, at::Tensor> w;
    const double s = 1.0 / 16;
    w["model.embed_tokens.weight"] = at::randn({512, 256});
    w["model.norm.weight"] = at::ones({256});
    w["lm_head.weight"] = at::randn({512, 256}) * s;
    for (int l = 0; l < layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        w[p + "input_layernorm.weight"] = at::ones({256});
        w[p + "post_attention_layernorm.weight"] = at::ones({256});
        for (const char *n : {"q_proj", "k_proj", "v_proj", "o_proj"})
            w[p + "self_attn." + n + ".weight"] = at::randn({256, 256}) * s;
        w[p + "mlp.gate_proj.weight"] = at::randn({688, 256}) * s;
        w[p + "mlp.up_proj.weight"] = at::randn({688, 256}) * s;
        w[p + "mlp.down_proj.weight"] = at::randn({256, 688}) * s / 2;
    }
    return std::make_unique<Decoder>(a, w);
}

WindowSet randomWindows(int n)
{
    std::mt19937_64 rng(1);
    WindowSet set;
    set.protocol = protocolPreset("tiny-ts");
    set.protocol.context = set.protocol.stride = 256;
    for (int i = 0; i < n; ++i) {
        TokenWindow t;
        for (int p = 0; p < 256; ++p)
            t.ids.push_back(static_cast<std::int32_t>(rng() % 512));
        set.windows.push_back(std::move(t));
    }
    return set;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_prune MODEL TEXT [SLEB_TARGET] [FINERCUT_STEPS] [REPEATS]\n");
        return 2;
    }
    const double slebTarget = argc > 3 ? std::atof(argv[3]) : 2;
    const double finercutSteps = argc > 4 ? std::atof(argv[4]) : 0;
    const int repeats = argc > 5 ? std::atoi(argv[5]) : 3;
    const int threads = argc > 6 ? std::atoi(argv[6]) : 1;
    at::set_num_threads(threads);
    std::printf("%d thread(s), median of %d runs each\n", threads, repeats);
    const Variant variants[]
        = {{"naive, batch 1 (official)", false, 1}, {"naive, batched", false, 0}, {"cached, batched", true, 0}};
    const bool synthetic = std::string(argv[1]) == "synthetic";
    std::unique_ptr<Decoder> model;
    WindowSet calibration[2];
    if (synthetic) {
        model = syntheticModel(std::atoi(argv[2]));
        calibration[0] = randomWindows(16);
        calibration[1] = randomWindows(10);
    }
    int failures = 0;
    for (PruneMethod method : {PruneMethod::Sleb, PruneMethod::FinerCut}) {
        std::printf("%s on %s\n", pruneMethodName(method).c_str(), argv[1]);
        double baseSeconds = 0;
        std::int64_t baseForwards = 0;
        std::string baseOrder;
        for (const Variant &v : variants) {
            PruneRequest req;
            req.modelPath = argv[1];
            req.calibrationPath = argv[2];
            req.options = PruneOptions::tinyTsDefaults(method);
            req.options.method = method;
            req.options.target = method == PruneMethod::Sleb ? slebTarget : finercutSteps;
            req.options.evaluateSteps = false;
            req.options.cached = v.cached;
            req.options.batch = v.batch;
            std::vector<double> seconds;
            PruneJobReport report;
            for (int i = 0; i < repeats; ++i) {
                JobContext job;
                if (synthetic) {
                    PruneOptions o = req.options;
                    o.calibrationWindows = 0;
                    const auto start = std::chrono::steady_clock::now();
                    report.result
                        = runPruneSearch(*model, calibration[method == PruneMethod::Sleb ? 0 : 1], nullptr, o, job);
                    report.result.steps.back().seconds
                        = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                } else {
                    report = runPruneJob(req, job);
                }
                // The search alone: the job's own clock includes opening and tokenizing.
                seconds.push_back(report.result.steps.back().seconds);
            }
            std::sort(seconds.begin(), seconds.end());
            const double s = seconds[seconds.size() / 2];
            const std::int64_t forwards = report.result.steps.back().unitForwards;
            if (baseSeconds == 0) {
                baseSeconds = s;
                baseForwards = forwards;
                baseOrder = order(report.result);
            }
            const bool same = order(report.result) == baseOrder;
            failures += !same;
            std::printf("  %-28s %6lld %s-forwards/window (%.2fx)  %8.3f s median of %d (%.2fx faster)  %s\n", v.name,
                static_cast<long long>(forwards), method == PruneMethod::Sleb ? "block" : "sublayer",
                static_cast<double>(forwards) / static_cast<double>(baseForwards), s, repeats, baseSeconds / s,
                same ? "same removals" : ("DIFFERENT removals: " + order(report.result)).c_str());
        }
        std::printf("  removal order: %s\n", baseOrder.c_str());
    }
    return failures ? 1 : 0;
}
