#include "commands.h"

#include "clicommon.h"
#include "common/formaterror.h"
#include "jobs/jobcontext.h"
#include "progressbar.h"
#include "train/demotrainer.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

namespace blockscope::cli {

void addTrainDemoCommand(CLI::App &app, int &exitCode)
{
    auto o = std::make_shared<DemoTrainingOptions>();
    auto cmd = app.add_subcommand(
        "train-demo", "Train the bundled demo model (tokenizer and a small Llama decoder) from a text corpus");
    cmd->add_option("--corpus", o->corpus,
           "UTF-8 training text (the bundled model uses ../shared/data/text/tinyshakespeare.txt)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--out", o->outDir, "Output folder (Hugging Face layout)")->required();
    cmd->add_option("--steps", o->steps, "Optimizer steps")->capture_default_str()->check(CLI::Range(1, 10000000));
    cmd->add_option("--batch", o->batch, "Sequences per step")->capture_default_str()->check(CLI::Range(1, 4096));
    cmd->add_option("--seq-len", o->seqLen, "Training sequence length")
        ->capture_default_str()
        ->check(CLI::Range(8, 65536));
    cmd->add_option("--long-every", o->longEvery, "Every n-th step uses a full-context sequence (0: never)")
        ->capture_default_str();
    cmd->add_option("--context", o->context, "Context length recorded in config.json")
        ->capture_default_str()
        ->check(CLI::Range(16, 1 << 20));
    cmd->add_option("--vocab", o->vocab, "Tokenizer vocabulary size")
        ->capture_default_str()
        ->check(CLI::Range(300, 1 << 20));
    cmd->add_option("--hidden", o->hidden, "Hidden size")->capture_default_str()->check(CLI::Range(8, 1 << 16));
    cmd->add_option("--layers", o->layers, "Decoder blocks")->capture_default_str()->check(CLI::Range(1, 1024));
    cmd->add_option("--heads", o->heads, "Attention heads")->capture_default_str()->check(CLI::Range(1, 1024));
    cmd->add_option("--kv-heads", o->kvHeads, "Key/value heads")->capture_default_str()->check(CLI::Range(1, 1024));
    cmd->add_option("--intermediate", o->intermediate, "MLP size")
        ->capture_default_str()
        ->check(CLI::Range(8, 1 << 20));
    cmd->add_option("--lr", o->lr, "Peak learning rate")->capture_default_str();
    cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
    cmd->callback([o, &exitCode, &app] {
        exitCode = guarded("train-demo", [&] {
            if (o->hidden % o->heads != 0 || o->heads % o->kvHeads != 0 || (o->hidden / o->heads) % 2 != 0)
                throw UsageError(
                    "--hidden must be divisible by --heads into an even head size, and --kv-heads must divide --heads");
            o->command = "blockscope-cli train-demo";
            for (const auto &opt : app.get_subcommand("train-demo")->get_options())
                if (opt->count() > 0 && opt->get_name() != "--help")
                    o->command += " " + opt->get_name() + " " + opt->as<std::string>();
            ProgressBar bar;
            std::stop_source stop;
            const auto t0 = std::chrono::steady_clock::now();
            auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
            JobContext job(
                stop.get_token(),
                [&](std::string_view s) {
                    bar.finish();
                    std::fprintf(stderr, "[%6.1f s] %.*s\n", elapsed(), static_cast<int>(s.size()), s.data());
                    bar.setStage(s);
                },
                [&](double f) { bar.update(f); });
            const auto r = trainDemoModel(*o, job, [&](std::int64_t step, double loss) {
                if (step % 50 == 0) {
                    bar.finish();
                    std::fprintf(
                        stderr, "[%6.1f s] step %lld loss %.4f\n", elapsed(), static_cast<long long>(step), loss);
                }
            });
            bar.finish();
            std::printf("trained %lld steps in %.0f s: loss %.3f -> %.3f, validation loss %.3f (perplexity %.2f) on "
                        "%lld tokens\n",
                static_cast<long long>(o->steps), r.seconds, r.firstLoss, r.finalTrainLoss, r.validationLoss,
                r.validationPerplexity, static_cast<long long>(r.validationTokens));
            std::printf("wrote %s\n", o->outDir.c_str());
            return ExitOk;
        });
    });
}

} // namespace blockscope::cli
