#pragma once

// Charts for reports as self-contained SVG text (no scripts, no external references): line
// charts, bar charts and a labelled grid (the layer map). Plain C++, so the same figures go into
// an HTML page as inline SVG and, rasterised, into a PDF.

#include <string>
#include <utility>
#include <vector>

namespace blockscope::report {

// How a chart looks: its size, the scale of its text and a theme for papers (light), slides
// (dark) or print (greyscale: greys plus a dash pattern per series, so lines stay apart).
struct ChartStyle
{
    enum class Theme { Light, Dark, Greyscale };
    double width = 720; // CSS pixels (1/96 inch)
    double height = 360;
    double fontScale = 1.0;
    Theme theme = Theme::Light;

    // A size in "px" or "cm" (at 96 px per inch, as SVG and CSS count). Throws
    // std::invalid_argument for another unit or a size that is not positive.
    static ChartStyle sized(double width, double height, const std::string &unit);
    static Theme themeFromName(const std::string &name); // light, dark, greyscale (grey); throws
};

struct Series
{
    std::string name;
    std::vector<std::pair<double, double>> points; // (x, y); non-finite points are skipped
    bool line = true; // false: markers only
};

struct LineChart
{
    std::string title, xLabel, yLabel;
    std::vector<Series> series;
    bool integerX = false; // ticks on whole numbers only (steps, generations)
    bool logY = false;
};
std::string lineChartSvg(const LineChart &chart, const ChartStyle &style);

struct Bar
{
    std::string label;
    double value = 0;
    bool marked = false; // drawn hatched (a removed unit)
};
struct BarChart
{
    std::string title, yLabel;
    std::vector<Bar> bars;
    std::string markedLegend; // legend entry of the hatched bars; empty: none
};
std::string barChartSvg(const BarChart &chart, const ChartStyle &style);

struct GridCell
{
    std::string text;
    int colour = -1; // index into the theme's palette; -1: empty cell
};
struct Grid
{
    std::string title;
    std::vector<std::string> rowLabels, columnLabels;
    std::vector<std::vector<GridCell>> cells; // [row][column]
};
// The height follows the rows (readable at 80 blocks); style.height is ignored.
std::string gridSvg(const Grid &grid, const ChartStyle &style);

// The SVG's width and height attributes in CSS pixels.
std::pair<double, double> svgSize(const std::string &svg);

// Text for XML (& < > " ').
std::string xmlEscape(const std::string &text);

} // namespace blockscope::report
