#pragma once

// A report an analyst can hand on (issue 13): one self-contained document for an experiment file
// with, for each chosen run, the trace chart, the layer map, the table of steps, the protocol
// cards, the PPA frontier and block shares when present, and the sparsity sweeps; every chart
// has a caption that says what is plotted, under which protocol, and which figures are measured
// or modelled. HTML with inline SVG (no scripts, no network), or PDF through Qt's PDF writer.

#include "svgchart.h"

#include <string>
#include <vector>

namespace blockscope {
struct Experiment;
}

namespace blockscope::report {

struct ReportOptions
{
    std::vector<std::string> ids; // runs and sweeps to include; empty: all of them
    ChartStyle chart; // size, font scale and theme of every chart
    double dpi = 150; // PDF: resolution the charts are drawn at
};

// The HTML document. Throws std::invalid_argument naming an id the file does not hold.
std::string reportHtml(const std::string &experimentPath, const Experiment &experiment, const ReportOptions &options);

// Writes the HTML (.html) or PDF (.pdf, A4, charts drawn at options.dpi) to `out`, atomically
// (a failure leaves what was there). The PDF needs a QGuiApplication (fonts). Throws
// std::invalid_argument for another suffix or an unknown id, IoError when it cannot write.
void writeReport(const std::string &experimentPath, const Experiment &experiment, const ReportOptions &options,
    const std::string &out);

} // namespace blockscope::report
