#pragma once

#include "sparse/blockmask.h"

#include <QString>

#include <vector>

namespace blockscope::render {

// A square matrix as CSV: a header row "row\col,0,1,..." (or "0:token" per column when labels are
// given), then one row per matrix row starting with its index (or "index:token"). Values are
// written with nine significant digits, enough to read every float back exactly; with `causal`
// the cells above the diagonal (which the block maps leave at 0) are left empty, and NaN is
// empty too. RFC 4180 quoting for labels with commas, quotes or line breaks.
bool writeGridCsv(const sparse::BlockGrid &grid, const QString &path, QString *error = nullptr, bool causal = true,
    const std::vector<QString> &labels = {});
// Reads what writeGridCsv() wrote (empty cells come back as NaN); false with a message naming
// the line for anything else.
bool readGridCsv(const QString &path, sparse::BlockGrid *grid, QString *error = nullptr);

} // namespace blockscope::render
