#include "svgchart.h"

#include "common/numbertext.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace blockscope::report {

namespace {

struct Palette
{
    const char *background, *foreground, *grid, *hatch;
    std::vector<std::string> series;
    std::vector<std::string> dashes; // per series (greyscale), empty otherwise
};

const Palette &paletteFor(ChartStyle::Theme theme)
{
    static const Palette light{"#ffffff", "#222222", "#dddddd", "#888888",
        {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"}, {}};
    static const Palette dark{"#1e1e1e", "#eeeeee", "#444444", "#aaaaaa",
        {"#4fa3e0", "#ffa040", "#5cd65c", "#ff6666", "#c39bd3", "#d7a88c", "#f7a8dc", "#cccccc"}, {}};
    static const Palette grey{"#ffffff", "#000000", "#d0d0d0", "#606060",
        {"#000000", "#555555", "#888888", "#333333", "#aaaaaa", "#222222", "#777777", "#444444"},
        {"", "6,3", "2,2", "8,3,2,3", "1,3", "10,4", "4,4", "6,2,2,2"}};
    switch (theme) {
    case ChartStyle::Theme::Dark: return dark;
    case ChartStyle::Theme::Greyscale: return grey;
    default: return light;
    }
}

std::string num(double v)
{
    return numberText(v, "%.2f", "nan");
}

// Tick label: short, without trailing zeros.
std::string tickLabel(double v)
{
    if (std::abs(v) < 1e-12)
        return "0";
    return numberText(v, "%.4g", "nan");
}

// "Nice" ticks (1, 2, 5 x 10^k) covering [lo, hi].
std::vector<double> niceTicks(double lo, double hi, int target, bool integer)
{
    if (!(hi > lo)) {
        const double pad = std::abs(lo) > 0 ? std::abs(lo) * 0.1 : 1;
        lo -= pad;
        hi += pad;
    }
    double step = (hi - lo) / std::max(target, 1);
    const double mag = std::pow(10.0, std::floor(std::log10(step)));
    const double r = step / mag;
    step = (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
    if (integer)
        step = std::max(1.0, std::round(step));
    std::vector<double> ticks;
    for (double t = std::floor(lo / step) * step; t <= hi + step * 1e-9; t += step)
        ticks.push_back(std::abs(t) < step * 1e-9 ? 0 : t);
    return ticks;
}

class Svg
{
public:
    Svg(double w, double h, const Palette &p, double fontScale)
        : m_p(p)
        , m_font(12 * fontScale)
    {
        m_s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(w) << "\" height=\"" << num(h)
            << "\" viewBox=\"0 0 " << num(w) << " " << num(h) << "\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n"
            << "<rect width=\"100%\" height=\"100%\" fill=\"" << p.background << "\"/>\n";
    }
    double font() const { return m_font; }
    void text(double x, double y, const std::string &t, const char *anchor = "middle", double scale = 1.0,
        double rotate = 0, bool bold = false, const char *colour = nullptr)
    {
        m_s << "<text x=\"" << num(x) << "\" y=\"" << num(y) << "\" font-size=\"" << num(m_font * scale)
            << "\" text-anchor=\"" << anchor << "\" fill=\"" << (colour ? colour : m_p.foreground) << "\"";
        if (bold)
            m_s << " font-weight=\"bold\"";
        if (rotate != 0)
            m_s << " transform=\"rotate(" << num(rotate) << " " << num(x) << " " << num(y) << ")\"";
        m_s << ">" << xmlEscape(t) << "</text>\n";
    }
    void line(double x1, double y1, double x2, double y2, const std::string &colour, double width = 1,
        const std::string &dash = {})
    {
        m_s << "<line x1=\"" << num(x1) << "\" y1=\"" << num(y1) << "\" x2=\"" << num(x2) << "\" y2=\"" << num(y2)
            << "\" stroke=\"" << colour << "\" stroke-width=\"" << num(width) << "\"";
        if (!dash.empty())
            m_s << " stroke-dasharray=\"" << dash << "\"";
        m_s << "/>\n";
    }
    void rect(double x, double y, double w, double h, const std::string &fill, const std::string &stroke = "none",
        const std::string &title = {})
    {
        m_s << "<rect x=\"" << num(x) << "\" y=\"" << num(y) << "\" width=\"" << num(std::max(w, 0.0)) << "\" height=\""
            << num(std::max(h, 0.0)) << "\" fill=\"" << fill << "\" stroke=\"" << stroke << "\"";
        if (title.empty())
            m_s << "/>\n";
        else
            m_s << "><title>" << xmlEscape(title) << "</title></rect>\n";
    }
    // A rectangle hatched with 45-degree lines, drawn as lines (SVG Tiny renderers such as Qt's
    // have no patterns).
    void hatched(double x, double y, double w, double h, const std::string &colour, const std::string &title)
    {
        rect(x, y, w, h, m_p.background, colour, title);
        const double step = 6;
        for (double c = step; c < w + h; c += step) {
            // The line x' + y' = c in the rectangle's frame, clipped to it.
            const double xa = std::max(0.0, c - h), xb = std::min(w, c);
            if (xb > xa)
                line(x + xa, y + (c - xa), x + xb, y + (c - xb), colour, 1.2);
        }
    }
    void raw(const std::string &s) { m_s << s; }
    std::string finish()
    {
        m_s << "</svg>\n";
        return m_s.str();
    }

private:
    const Palette &m_p;
    double m_font;
    std::ostringstream m_s;
};

} // namespace

ChartStyle ChartStyle::sized(double width, double height, const std::string &unit)
{
    if (!(width > 0) || !(height > 0) || !std::isfinite(width) || !std::isfinite(height))
        throw std::invalid_argument("chart size must be positive");
    ChartStyle s;
    const double scale = unit == "px" ? 1.0 : unit == "cm" ? 96.0 / 2.54 : 0.0;
    if (scale == 0)
        throw std::invalid_argument("chart size unit \"" + unit + "\" is not px or cm");
    s.width = width * scale;
    s.height = height * scale;
    return s;
}

ChartStyle::Theme ChartStyle::themeFromName(const std::string &name)
{
    if (name == "light")
        return Theme::Light;
    if (name == "dark")
        return Theme::Dark;
    if (name == "greyscale" || name == "grey" || name == "grayscale")
        return Theme::Greyscale;
    throw std::invalid_argument("theme \"" + name + "\" is not light, dark or greyscale");
}

std::string xmlEscape(const std::string &t)
{
    std::string out;
    out.reserve(t.size());
    for (char c : t) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string lineChartSvg(const LineChart &c, const ChartStyle &style)
{
    const Palette &p = paletteFor(style.theme);
    Svg svg(style.width, style.height, p, style.fontScale);
    const double f = svg.font();
    const double left = 4.8 * f + 8, right = 16, top = 2.4 * f, bottom = 3.6 * f + 1.6 * f;
    const double w = style.width - left - right, h = style.height - top - bottom;
    double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
    const auto ty = [&](double y) { return c.logY ? std::log10(y) : y; };
    for (const Series &s : c.series)
        for (const auto &[x, y] : s.points)
            if (std::isfinite(x) && std::isfinite(y) && (!c.logY || y > 0)) {
                x0 = std::min(x0, x);
                x1 = std::max(x1, x);
                y0 = std::min(y0, ty(y));
                y1 = std::max(y1, ty(y));
            }
    svg.text(style.width / 2, 1.5 * f, c.title, "middle", 1.15, 0, true);
    if (!std::isfinite(x0)) {
        svg.text(style.width / 2, style.height / 2, "no values to plot");
        return svg.finish();
    }
    const std::vector<double> xt = niceTicks(x0, x1, 8, c.integerX), yt = niceTicks(y0, y1, 6, false);
    const double xa = std::min(x0, xt.front()), xb = std::max(x1, xt.back());
    const double ya = std::min(y0, yt.front()), yb = std::max(y1, yt.back());
    const auto X = [&](double x) { return left + (xb > xa ? (x - xa) / (xb - xa) : 0.5) * w; };
    const auto Y = [&](double y) { return top + h - (yb > ya ? (ty(y) - ya) / (yb - ya) : 0.5) * h; };
    const auto Yt = [&](double t) { return top + h - (yb > ya ? (t - ya) / (yb - ya) : 0.5) * h; };
    for (double t : yt) {
        svg.line(left, Yt(t), left + w, Yt(t), p.grid);
        svg.text(left - 6, Yt(t) + f * 0.35, tickLabel(c.logY ? std::pow(10.0, t) : t), "end", 0.9);
    }
    for (double t : xt) {
        svg.line(X(t), top, X(t), top + h, p.grid);
        svg.text(X(t), top + h + 1.3 * f, tickLabel(t), "middle", 0.9);
    }
    svg.line(left, top + h, left + w, top + h, p.foreground);
    svg.line(left, top, left, top + h, p.foreground);
    svg.text(left + w / 2, top + h + 2.7 * f, c.xLabel);
    svg.text(1.2 * f, top + h / 2, c.yLabel, "middle", 1.0, -90);
    double legendX = left;
    for (std::size_t i = 0; i < c.series.size(); ++i) {
        const Series &s = c.series[i];
        const std::string &colour = p.series[i % p.series.size()];
        const std::string dash = p.dashes.empty() ? std::string() : p.dashes[i % p.dashes.size()];
        std::string path;
        for (const auto &[x, y] : s.points) {
            if (!std::isfinite(x) || !std::isfinite(y) || (c.logY && y <= 0))
                continue;
            path += (path.empty() ? "M" : " L") + num(X(x)) + "," + num(Y(y));
        }
        if (s.line && !path.empty())
            svg.raw("<path d=\"" + path + "\" fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"2\""
                + (dash.empty() ? "" : " stroke-dasharray=\"" + dash + "\"") + "/>\n");
        for (const auto &[x, y] : s.points)
            if (std::isfinite(x) && std::isfinite(y) && (!c.logY || y > 0))
                svg.raw("<circle cx=\"" + num(X(x)) + "\" cy=\"" + num(Y(y)) + "\" r=\"3.5\" fill=\"" + colour
                    + "\"><title>" + xmlEscape(s.name + ": " + tickLabel(x) + ", " + tickLabel(y))
                    + "</title></circle>\n");
        const double ly = style.height - 0.7 * f;
        svg.line(legendX, ly - 0.35 * f, legendX + 18, ly - 0.35 * f, colour, 2, dash);
        svg.text(legendX + 22, ly, s.name, "start", 0.9);
        legendX += 30 + 0.6 * f * static_cast<double>(s.name.size());
    }
    return svg.finish();
}

std::string barChartSvg(const BarChart &c, const ChartStyle &style)
{
    const Palette &p = paletteFor(style.theme);
    Svg svg(style.width, style.height, p, style.fontScale);
    const double f = svg.font();
    const double left = 4.8 * f + 8, right = 16, top = 2.4 * f, bottom = 4.5 * f + (c.markedLegend.empty() ? 0 : f);
    const double w = style.width - left - right, h = style.height - top - bottom;
    svg.text(style.width / 2, 1.5 * f, c.title, "middle", 1.15, 0, true);
    double hi = 0;
    for (const Bar &b : c.bars)
        if (std::isfinite(b.value))
            hi = std::max(hi, b.value);
    const std::vector<double> yt = niceTicks(0, hi > 0 ? hi : 1, 5, false);
    const double yb = std::max(hi, yt.back());
    const auto Y = [&](double v) { return top + h - (yb > 0 ? v / yb : 0) * h; };
    for (double t : yt) {
        svg.line(left, Y(t), left + w, Y(t), p.grid);
        svg.text(left - 6, Y(t) + f * 0.35, tickLabel(t), "end", 0.9);
    }
    svg.line(left, top + h, left + w, top + h, p.foreground);
    svg.text(1.2 * f, top + h / 2, c.yLabel, "middle", 1.0, -90);
    const double slot = c.bars.empty() ? w : w / static_cast<double>(c.bars.size());
    // Labels stay legible: every k-th one when the slots are narrower than a line of text.
    const int every = std::max(1, static_cast<int>(std::ceil(1.3 * f / std::max(slot, 1e-9))));
    for (std::size_t i = 0; i < c.bars.size(); ++i) {
        const Bar &b = c.bars[i];
        const double x = left + slot * static_cast<double>(i) + slot * 0.15;
        const double v = std::isfinite(b.value) ? b.value : 0;
        const double barH = b.marked && v <= 0 ? h * 0.03 : top + h - Y(v);
        const std::string title = b.label + ": " + tickLabel(v) + (b.marked ? " (removed)" : "");
        if (b.marked)
            svg.hatched(x, top + h - barH, slot * 0.7, barH, p.hatch, title);
        else
            svg.rect(x, top + h - barH, slot * 0.7, barH, p.series.front(), "none", title);
        if (static_cast<int>(i) % every == 0)
            svg.text(left + slot * (static_cast<double>(i) + 0.5), top + h + 0.8 * f, b.label, "end", 0.8, -45);
    }
    if (!c.markedLegend.empty()) {
        const double ly = style.height - 0.6 * f;
        svg.hatched(left, ly - 0.8 * f, 14, 0.8 * f, p.hatch, c.markedLegend);
        svg.text(left + 20, ly, c.markedLegend, "start", 0.9);
    }
    return svg.finish();
}

std::string gridSvg(const Grid &g, const ChartStyle &style)
{
    const Palette &p = paletteFor(style.theme);
    const double f = 12 * style.fontScale;
    const double rowH = std::max(1.5 * f, 14.0), top = 3.6 * f, left = 6 * f;
    const double height = top + rowH * static_cast<double>(g.rowLabels.size()) + f;
    Svg svg(style.width, height, p, style.fontScale);
    svg.text(style.width / 2, 1.5 * f, g.title, "middle", 1.15, 0, true);
    const double colW = (style.width - left - 16) / std::max<double>(1, static_cast<double>(g.columnLabels.size()));
    for (std::size_t c = 0; c < g.columnLabels.size(); ++c)
        svg.text(
            left + colW * (static_cast<double>(c) + 0.5), top - 0.6 * f, g.columnLabels[c], "middle", 1.0, 0, true);
    for (std::size_t r = 0; r < g.rowLabels.size(); ++r) {
        const double y = top + rowH * static_cast<double>(r);
        svg.text(left - 6, y + rowH * 0.5 + f * 0.35, g.rowLabels[r], "end", 0.9);
        for (std::size_t c = 0; c < g.columnLabels.size(); ++c) {
            const GridCell cell = r < g.cells.size() && c < g.cells[r].size() ? g.cells[r][c] : GridCell{};
            const double x = left + colW * static_cast<double>(c);
            const std::string fill = cell.colour >= 0
                ? p.series[static_cast<std::size_t>(cell.colour) % p.series.size()]
                : std::string(p.background);
            svg.rect(x + 1, y + 1, colW - 2, rowH - 2, fill, p.grid,
                g.rowLabels[r] + ", " + g.columnLabels[c] + (cell.text.empty() ? ": kept" : ": " + cell.text));
            if (!cell.text.empty())
                svg.text(x + colW / 2, y + rowH * 0.5 + f * 0.35, cell.text, "middle", 0.9, 0, false,
                    cell.colour >= 0 ? (style.theme == ChartStyle::Theme::Dark ? "#000000" : "#ffffff") : nullptr);
        }
    }
    return svg.finish();
}

std::pair<double, double> svgSize(const std::string &svg)
{
    const auto attr = [&](const char *name) {
        const std::string key = std::string(" ") + name + "=\"";
        const auto at = svg.find(key);
        return at == std::string::npos ? 0.0 : std::atof(svg.c_str() + at + key.size());
    };
    return {attr("width"), attr("height")};
}

} // namespace blockscope::report
