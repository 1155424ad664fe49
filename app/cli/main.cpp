// blockscope-cli: the engine without the GUI, for batch jobs and scripts.
#include "clicommon.h"
#include "commands.h"
#include "common/device.h"
#include "log/logging.h"
#include "ranks.h"

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <spdlog/sinks/stdout_color_sinks.h>

int main(int argc, char **argv)
{
    using namespace blockscope;
    // A file-size limit (ulimit -f) then fails the write with EFBIG, which the writers report as a
    // clear error naming the file, as they do a full disk, instead of killing the process.
    std::signal(SIGXFSZ, SIG_IGN);
    cli::setCommandLine(argc, argv);
    CLI::App app{"Blockscope: compress and understand language models block by block.\n"
                 "Exit codes: 0 success, 2 usage error, 3 bad input file, 4 cannot write a file, 5 the ranks of a "
                 "multi-process run disagreed or one stopped answering, 1 internal error, 130 cancelled.",
        "blockscope-cli"};
    app.require_subcommand(1);
    app.set_version_flag(
        "--version", [] { return std::string("blockscope-cli " BLOCKSCOPE_VERSION " (") + deviceSummary() + ")"; });
    std::string logLevel = "warn";
    app.add_option("--log-level", logLevel, "Log level on stderr: debug, info, warn, error, off")
        ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}));

    int exitCode = cli::ExitOk;
    cli::addInspectCommand(app, exitCode);
    cli::addEvalCommand(app, exitCode);
    cli::addExportCommand(app, exitCode);
    cli::addTrainDemoCommand(app, exitCode);
    cli::addPruneCommand(app, exitCode);
    cli::addReportCommand(app, exitCode);
    cli::addGatesCommand(app, exitCode);
    cli::addAttentionCommand(app, exitCode);
    cli::addPpaCommand(app, exitCode);

    app.parse_complete_callback([&] {
        auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
        console->set_level(spdlog::level::from_str(logLevel));
        log::sink()->add_sink(console);
    });
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        const int rc = app.exit(e);
        return rc == 0 ? cli::ExitOk : cli::ExitUsage;
    }
    return exitCode;
}
