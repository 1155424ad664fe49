#pragma once

#include "logline.h"

#include <spdlog/logger.h>
#include <spdlog/sinks/dist_sink.h>

#include <memory>

namespace blockscope::log {

// One named logger per core subsystem (log::logger(log::Subsystem::Store)->warn(...)). They all write to one
// distributing sink; the application decides where that goes (console, rotating file, in-app view).
std::shared_ptr<spdlog::logger> logger(Subsystem subsystem);

std::shared_ptr<spdlog::sinks::dist_sink_mt> sink();

} // namespace blockscope::log
