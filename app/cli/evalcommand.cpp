#include "commands.h"

#include "clicommon.h"
#include "common/formaterror.h"
#include "eval/evaluation.h"
#include "jobs/jobcontext.h"
#include "progressbar.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>

namespace blockscope::cli {

void addEvalCommand(CLI::App &app, int &exitCode)
{
    auto o = std::make_shared<EvaluationRequest>();
    auto json = std::make_shared<bool>(false);
    auto cmd = app.add_subcommand("eval",
        "Perplexity of a model (optionally with units skipped) with its protocol card, "
        "and the distance of a masked configuration to the dense model");
    addModelArgument(cmd, o->modelPath);
    cmd->add_option("--text", o->textPath, "Evaluation text: UTF-8 text, WikiText .raw, or JSONL with a \"text\" field")
        ->required();
    cmd->add_option("--protocol", o->protocol, "Protocol preset: tiny-ts, sleb, evopress, sliding, finercut")
        ->capture_default_str();
    cmd->add_option("--context", o->context, "Context length T (default: the preset's, capped by the model's)");
    cmd->add_option("--stride", o->stride, "Stride S (sliding protocol)");
    cmd->add_option("--max-windows", o->maxWindows, "Use at most this many windows (0: all)")->capture_default_str();
    cmd->add_option("--pool", o->pool,
           "part of the text: auto (tiny-ts: the evaluation pool; other protocols: all), calibration (first quarter), "
           "evaluation (second half) or all")
        ->capture_default_str()
        ->check(CLI::IsMember({"calibration", "evaluation", "all"}));
    cmd->add_option("--skip-attn", o->skipAttn, "Attention sublayers to skip, e.g. 3,5")->delimiter(',');
    cmd->add_option("--skip-mlp", o->skipMlp, "MLP sublayers to skip")->delimiter(',');
    cmd->add_option("--skip-block", o->skipBlock, "Whole blocks to skip")->delimiter(',');
    addDeviceOption(cmd, o->device);
    cmd->add_option("--dtype", o->dtype, "float32, bfloat16 or float16")
        ->capture_default_str()
        ->check(CLI::IsMember({"float32", "bfloat16", "float16"}));
    cmd->add_option("--tokenizer", o->tokenizerPath, "Tokenizer file (default: the one beside or inside the model)");
    cmd->add_option("--batch", o->batch, "Windows per forward pass")->capture_default_str()->check(CLI::Range(1, 4096));
    cmd->add_flag("--json", *json, "Print JSON instead of text");
    cmd->callback([o, json, &exitCode] {
        exitCode = guarded("eval", [&] {
            CommandJob command;
            const EvaluationReport r = runEvaluation(*o, command.context());
            command.bar().finish();
            if (*json)
                std::cout << r.toJson().dump(2) << "\n";
            else
                std::cout << r.text();
            return ExitOk;
        });
    });
}

} // namespace blockscope::cli
