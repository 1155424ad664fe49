#include "clicommon.h"

#include "common/formaterror.h"
#include "dist/processgroup.h"
#include "jobs/jobcontext.h"
#include "sparse/gates.h"

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>

namespace blockscope::cli {

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void onInterrupt(int)
{
    g_interrupted.store(true);
}

} // namespace

InterruptWatcher::InterruptWatcher(std::stop_source stop)
{
    g_interrupted = false;
    m_previousInt = std::signal(SIGINT, onInterrupt);
    m_previousTerm = std::signal(SIGTERM, onInterrupt);
    m_watcher = std::jthread([stop](std::stop_token done) mutable {
        while (!done.stop_requested()) {
            if (g_interrupted.load()) {
                stop.request_stop();
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    });
}

CommandJob::CommandJob()
    : m_job(
        m_stop.get_token(), [this](std::string_view s) { m_bar.setStage(s); }, [this](double f) { m_bar.update(f); })
    , m_interrupts(m_stop)
{
}

InterruptWatcher::~InterruptWatcher()
{
    m_watcher.request_stop();
    m_watcher.join();
    std::signal(SIGINT, m_previousInt == SIG_ERR ? SIG_DFL : m_previousInt);
    std::signal(SIGTERM, m_previousTerm == SIG_ERR ? SIG_DFL : m_previousTerm);
}

int guarded(const std::string &command, const std::function<int()> &body)
{
    try {
        return body();
    } catch (const UsageError &e) {
        std::cerr << "blockscope-cli " << command << ": " << e.what() << "\n";
        return ExitUsage;
    } catch (const FormatError &e) {
        std::cerr << "blockscope-cli " << command << ": bad input: " << e.what() << "\n";
        return ExitBadInput;
    } catch (const sparse::GateMismatch &e) {
        std::cerr << "blockscope-cli " << command << ": bad input: " << e.what() << "\n";
        return ExitBadInput;
    } catch (const IoError &e) {
        std::cerr << "blockscope-cli " << command << ": cannot write: " << e.what() << "\n";
        return ExitCannotWrite;
    } catch (const std::filesystem::filesystem_error &e) {
        std::cerr << "blockscope-cli " << command << ": cannot write: " << e.what() << "\n";
        return ExitCannotWrite;
    } catch (const JobCancelled &) {
        std::cerr << "blockscope-cli " << command << ": cancelled\n";
        return ExitCancelled;
    } catch (const dist::GroupError &e) {
        std::cerr << "blockscope-cli " << command << ": " << e.what() << "\n";
        return ExitRanks;
    } catch (const std::invalid_argument &e) {
        // Core raises invalid_argument for requests it cannot run as asked (e.g. CUDA without a
        // device, a model that cannot compute): the user's to fix, not a bug.
        std::cerr << "blockscope-cli " << command << ": " << e.what() << "\n";
        return ExitUsage;
    } catch (const std::exception &e) {
        std::cerr << "blockscope-cli " << command << ": internal error: " << e.what() << "\n";
        return ExitInternalError;
    }
}

CLI::Option *addModelArgument(CLI::App *cmd, std::string &path)
{
    return cmd->add_option("path", path, "Model: Hugging Face folder, .safetensors, .gguf or llama2.c .bin")
        ->required();
}

CLI::Option *addDeviceOption(CLI::App *cmd, std::string &device)
{
    return cmd->add_option("--device", device, "cpu or cuda")
        ->capture_default_str()
        ->check(CLI::IsMember({"cpu", "cuda"}));
}

} // namespace blockscope::cli
