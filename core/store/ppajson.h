#pragma once

// The one JSON form of a PPA point, written by the experiment exports (runs and sweeps), the
// `ppa --json` command and the PPA page's export alike. Every measured figure is an object with
// its value, min, max, runs, provenance ("measured", "derived" or "modelled") and note; the cost
// model's counts are plain numbers (modelled by construction); predictions say whose energy
// constants they used. NaN is null.

#include "ppa/ppa.h"

#include <nlohmann/json.hpp>

namespace blockscope {

nlohmann::json ppaFigureJson(const ppa::Figure &figure);
nlohmann::json ppaPointJson(const ppa::PpaPoint &point);

} // namespace blockscope
