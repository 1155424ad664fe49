#pragma once

#include "logline.h"

#include <spdlog/logger.h>
#include <spdlog/sinks/dist_sink.h>

#include <memory>

namespace blockscope::log {

// One named logger per core subsystem. They all write to one distributing sink; the
// application decides where that goes (console, rotating file, in-app view).
std::shared_ptr<spdlog::logger> logger(Subsystem subsystem);
std::shared_ptr<spdlog::logger> model();
std::shared_ptr<spdlog::logger> text();
std::shared_ptr<spdlog::logger> eval();
std::shared_ptr<spdlog::logger> prune();
std::shared_ptr<spdlog::logger> sparse();
std::shared_ptr<spdlog::logger> ppa();
std::shared_ptr<spdlog::logger> store();
std::shared_ptr<spdlog::logger> jobs();

std::shared_ptr<spdlog::sinks::dist_sink_mt> sink();

} // namespace blockscope::log
