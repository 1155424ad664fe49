#include "report.h"

#include "common/atomicfile.h"

#include "common/contenthash.h"
#include "common/formaterror.h"
#include "common/numbertext.h"
#include "common/timestamp.h"
#include "ppa/ppa.h"
#include "prune/unit.h"
#include "store/experimentfile.h"

#include <QBuffer>
#include <QByteArray>
#include <QImage>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSvgRenderer>
#include <QTextDocument>
#include <QUrl>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace blockscope::report {

namespace {

std::string fmt(double v, const char *f = "%.4g")
{
    return numberText(v, f, "&#8211;");
}

std::string esc(const std::string &s)
{
    return xmlEscape(s);
}

// Collects the figures of a document; each is an inline SVG with a numbered caption.
class Figures
{
public:
    std::string add(const std::string &svg, const std::string &caption)
    {
        ++m_count;
        m_svgs.push_back(svg);
        return "<figure>\n<!--chart " + std::to_string(m_count - 1) + "-->\n" + svg + "<figcaption><b>Figure "
            + std::to_string(m_count) + ".</b> " + caption + "</figcaption>\n</figure>\n";
    }
    const std::vector<std::string> &svgs() const { return m_svgs; }

private:
    int m_count = 0;
    std::vector<std::string> m_svgs;
};

bool greedy(PruneMethod m)
{
    return m == PruneMethod::Sleb || m == PruneMethod::FinerCut;
}

std::string scoreName(const RunInfo &info)
{
    switch (info.options.method) {
    case PruneMethod::Sleb: return "SLEB's NLL sum over the calibration windows";
    case PruneMethod::FinerCut: return "FinerCut's " + info.options.finercutMetric + " divergence to the dense logits";
    case PruneMethod::EvoPress: return "EvoPress's " + info.options.evoFitness + " fitness";
    default: return "the method's score";
    }
}

std::string traceFigure(const ExperimentRun &run, const ChartStyle &style, Figures &figures)
{
    const RunInfo &info = run.info;
    const bool evaluated = std::any_of(
        run.steps.begin(), run.steps.end(), [](const TraceStep &s) { return std::isfinite(s.perplexity); });
    const bool evo = info.options.method == PruneMethod::EvoPress;
    LineChart c;
    c.title = info.id + " " + pruneMethodName(info.options.method) + (evaluated ? ": perplexity" : ": score");
    c.xLabel = evo ? "EvoPress generation" : "Step (units removed)";
    c.yLabel = evaluated ? "Perplexity" : "Chosen candidate's score";
    c.integerX = true;
    Series s;
    s.name = info.id;
    if (evaluated && std::isfinite(info.densePerplexity) && !evo)
        s.points.emplace_back(0, info.densePerplexity);
    for (const TraceStep &t : run.steps) {
        const double x = evo ? t.index : t.index + 1; // greedy: units removed after the step
        s.points.emplace_back(x, evaluated ? t.perplexity : t.chosenScore);
    }
    c.series.push_back(s);
    std::string caption;
    if (evaluated) {
        const std::string protocol = info.evaluationProtocol ? info.evaluationProtocol->card() : std::string();
        caption = "Perplexity of the configuration after each step of " + esc(info.id) + " ("
            + esc(pruneMethodName(info.options.method)) + ")" + (evo ? "" : ", with the dense model at 0")
            + ", measured by Blockscope's forward on the evaluation windows under "
            + esc(info.evaluationProtocol ? info.evaluationProtocol->preset : std::string("the run's protocol"))
            + " (protocol card below).";
    } else {
        caption = "The chosen candidate's score at each step of " + esc(info.id) + ": " + esc(scoreName(info))
            + ", measured on the calibration windows under " + esc(info.calibrationProtocol.preset)
            + "; the run was searched without per-step evaluation, so no perplexity is plotted.";
    }
    return figures.add(lineChartSvg(c, style), caption);
}

std::string layerMapFigure(const ExperimentRun &run, const ChartStyle &style, Figures &figures)
{
    const RunInfo &info = run.info;
    Grid g;
    g.title = info.id + ": units removed";
    g.columnLabels = {"Attention", "MLP"};
    for (int l = 0; l < info.layers; ++l)
        g.rowLabels.push_back("Block " + std::to_string(l));
    g.cells.assign(static_cast<std::size_t>(info.layers), std::vector<GridCell>(2));
    const bool byStep = greedy(info.options.method);
    if (byStep) {
        for (const TraceStep &t : run.steps)
            for (const Unit &u : t.chosen) {
                if (u.layer < 0 || u.layer >= info.layers)
                    continue;
                auto &row = g.cells[static_cast<std::size_t>(u.layer)];
                const GridCell cell{std::to_string(t.index), t.index};
                if (u.kind != UnitKind::Mlp)
                    row[0] = cell;
                if (u.kind != UnitKind::Attention)
                    row[1] = cell;
            }
    } else if (!run.steps.empty()) {
        const UnitMask &m = run.steps.back().mask;
        for (int l = 0; l < std::min(info.layers, m.layers()); ++l) {
            auto &row = g.cells[static_cast<std::size_t>(l)];
            if (m.skipAttn[static_cast<std::size_t>(l)])
                row[0] = GridCell{"removed", 3};
            if (m.skipMlp[static_cast<std::size_t>(l)])
                row[1] = GridCell{"removed", 3};
        }
    }
    const std::string caption = byStep
        ? "Layer map of " + esc(info.id)
            + ": each removed unit shows the step that removed it (0 first), coloured by "
              "step; empty cells are kept. Chosen by "
            + esc(scoreName(info)) + " under " + esc(info.calibrationProtocol.preset) + " (measured)."
        : "Layer map of " + esc(info.id) + ": the units its final configuration removes ("
            + esc(run.steps.empty() ? std::string("no steps") : run.steps.back().mask.describe())
            + "); empty cells are kept.";
    return figures.add(gridSvg(g, style), caption);
}

std::string stepsTable(const ExperimentRun &run)
{
    std::ostringstream h;
    h << "<table>\n<tr><th>Step</th><th>Kind</th><th>Chosen</th><th>Score</th><th>Perplexity</th><th>KL to "
         "dense</th><th>Evaluations</th><th>Tokens</th><th>Seconds</th></tr>\n";
    for (const TraceStep &t : run.steps) {
        int bounds = 0;
        for (const CandidateScore &c : t.candidates)
            bounds += c.lowerBound;
        h << "<tr><td>" << t.index << "</td><td>" << esc(t.kind) << "</td><td>" << esc(unitsLabel(t.chosen))
          << (t.nearTie ? " (near tie)" : "") << "</td><td>" << fmt(t.chosenScore, "%.6g") << "</td><td>"
          << fmt(t.perplexity) << "</td><td>" << fmt(t.klToDense, "%.5f") << "</td><td>" << t.evaluations
          << (bounds ? " (" + std::to_string(bounds) + " lower bounds)" : std::string()) << "</td><td>" << t.tokens
          << "</td><td>" << fmt(t.seconds, "%.1f") << "</td></tr>\n";
    }
    h << "</table>\n";
    return h.str();
}

// x of a PPA point and whether it was measured: decode latency when measured, else the modelled
// prefill FLOPs per token.
std::string ppaSection(const ExperimentRun &run, const ChartStyle &style, Figures &figures)
{
    const auto &points = run.ppa;
    if (points.empty())
        return {};
    std::ostringstream h;
    h << "<h3>Power, performance and area</h3>\n";
    const bool measured = std::all_of(points.begin(), points.end(),
        [](const ppa::PpaPoint &p) { return p.measured && p.measured->decodeMsPerToken.known(); });
    LineChart c;
    c.title = run.info.id + ": quality against cost";
    c.xLabel = measured ? "Decode latency (ms/token, measured)" : "Prefill FLOPs per token (modelled)";
    c.yLabel = "Perplexity (measured)";
    Series all{"configurations", {}, false}, front{"Pareto frontier", {}, true};
    std::vector<double> xs, ys;
    for (const ppa::PpaPoint &p : points) {
        const double x = measured ? p.measured->decodeMsPerToken.value : p.costs.prefillFlopsPerToken;
        all.points.emplace_back(x, p.perplexity);
        xs.push_back(x);
        ys.push_back(p.perplexity);
    }
    for (std::size_t i : ppa::paretoFrontier(xs, ys, true, true))
        front.points.emplace_back(xs[i], ys[i]);
    c.series = {all, front};
    const std::string device = measured ? points.front().measured->device : std::string();
    h << figures.add(lineChartSvg(c, style),
        "Perplexity (measured on the run's evaluation windows) against "
            + std::string(measured ? "decode latency per token, measured on " + esc(device)
                                   : "prefill FLOPs per token, modelled from the architecture and the mask")
            + ", for the dense model and every step of " + esc(run.info.id)
            + "; the line joins the Pareto-optimal points (lower is better on both axes).");
    // Block shares of the smallest configuration, by block.
    const ppa::PpaPoint &last = points.back();
    BarChart b;
    b.title = run.info.id + ", " + last.label + ": share of prefill FLOPs by block";
    b.yLabel = "Share of prefill FLOPs (%, modelled)";
    b.markedLegend = "removed";
    const std::vector<ppa::UnitCost> units = ppa::unitsByBlock(last.costs.units);
    const std::vector<double> shares = ppa::unitShares(units, ppa::ShareMetric::Flops);
    for (std::size_t i = 0; i < units.size(); ++i)
        b.bars.push_back({units[i].unit, std::isfinite(shares[i]) ? shares[i] : 0.0, units[i].removed});
    h << figures.add(barChartSvg(b, style),
        "Share of each block (attention and MLP together) in the prefill FLOPs per token of " + esc(last.label) + " of "
            + esc(run.info.id)
            + ", modelled from the architecture (a multiply-add counts 2); removed blocks are "
              "hatched.");
    h << "<table>\n<tr><th>Point</th><th>Perplexity</th><th>Parameters kept</th><th>Prefill FLOPs/token "
         "(modelled)</th><th>Decode ms/token</th><th>Prefill tokens/s</th><th>Energy J/token</th></tr>\n";
    for (const ppa::PpaPoint &p : points) {
        const auto figure = [&](const ppa::Figure *f) {
            return f && f->known() ? fmt(f->value) + " (" + provenanceName(f->provenance) + ")"
                                   : std::string("&#8211;");
        };
        h << "<tr><td>" << esc(p.label) << "</td><td>" << fmt(p.perplexity) << "</td><td>" << p.costs.paramsKept
          << "</td><td>" << fmt(p.costs.prefillFlopsPerToken) << "</td><td>"
          << figure(p.measured ? &p.measured->decodeMsPerToken : nullptr) << "</td><td>"
          << figure(p.measured ? &p.measured->prefillTokensPerSecond : nullptr) << "</td><td>"
          << figure(p.measured ? &p.measured->prefillJoulesPerToken : nullptr) << "</td></tr>\n";
    }
    h << "</table>\n";
    return h.str();
}

std::string sweepSection(const SweepRecord &s, const ChartStyle &style, Figures &figures)
{
    std::ostringstream h;
    h << "<h2 id=\"" << esc(s.id) << "\">" << esc(s.id) << (s.label.empty() ? "" : " &#183; " + esc(s.label))
      << ": sparsity sweep (" << esc(s.masks) << " masks)</h2>\n";
    h << "<p>Model " << esc(s.modelPath) << (s.gatesPath.empty() ? "" : ", gates " + esc(s.gatesPath)) << ", block "
      << s.blockSize << ", dense perplexity " << fmt(s.densePerplexity) << ".</p>\n<pre class=\"card\">"
      << esc(s.protocol) << "</pre>\n";
    LineChart c;
    c.title = s.id + ": perplexity against sparsity";
    c.xLabel = "Block sparsity (1 - tile density, measured)";
    c.yLabel = "Perplexity (measured)";
    Series line{s.masks + " masks", {}, true};
    for (const SweepPoint &p : s.points)
        line.points.emplace_back(1 - p.tileDensity, p.perplexity);
    std::sort(line.points.begin(), line.points.end());
    c.series.push_back(line);
    h << figures.add(lineChartSvg(c, style),
        "Perplexity of the block-sparse model against the sparsity its masks reach, both measured on " + esc(s.textPath)
            + " under " + esc(s.protocol) + ".");
    h << "<table>\n<tr><th>Rule</th><th>Perplexity</th><th>Sparsity</th><th>Pair density</th><th>Recall "
         "(mean)</th><th>Prefill FLOPs/token (modelled)</th></tr>\n";
    for (const SweepPoint &p : s.points)
        h << "<tr><td>" << esc(p.rule) << "</td><td>" << fmt(p.perplexity) << "</td><td>" << fmt(1 - p.tileDensity)
          << "</td><td>" << fmt(p.pairDensity) << "</td><td>" << fmt(p.recallMean) << "</td><td>"
          << fmt(p.ppa.costs.prefillFlopsPerToken) << "</td></tr>\n";
    h << "</table>\n";
    return h.str();
}

// The run's options that matter for its method, as "key: value" pairs.
std::string optionsText(const RunInfo &info)
{
    static const std::set<std::string> common{
        "method", "target", "calibration_windows", "batch", "cached", "protected_blocks", "evaluate_steps", "seed"};
    static const std::map<PruneMethod, std::set<std::string>> own{
        {PruneMethod::Sleb, {"early_barrier", "latter_barrier", "early_stop"}},
        {PruneMethod::FinerCut, {"finercut_level", "finercut_metric", "exclude_fraction"}},
        {PruneMethod::EvoPress,
            {"generations", "offspring", "initial_genomes", "initial_tokens", "stage_tokens", "stage_survivors",
                "max_mutations", "drop_entire_block", "evo_fitness", "teacher", "teacher_top_k", "teacher_budget_mib"}},
    };
    const auto it = own.find(info.options.method);
    std::string out;
    const nlohmann::json options = info.options.toJson();
    for (const auto &[key, value] : options.items())
        if (common.count(key) || (it != own.end() && it->second.count(key)))
            out += (out.empty() ? "" : ", ") + key + ": " + value.dump();
    return out;
}

std::string runSection(const ExperimentRun &run, const ChartStyle &style, Figures &figures)
{
    const RunInfo &info = run.info;
    std::ostringstream h;
    h << "<h2 id=\"" << esc(info.id) << "\">" << esc(info.id) << " &#183; " << esc(pruneMethodName(info.options.method))
      << (info.label.empty() ? "" : " &#183; " + esc(info.label)) << "</h2>\n";
    h << "<table class=\"meta\">\n<tr><th>Model</th><td>" << esc(info.modelPath) << "<br><small>" << esc(info.modelHash)
      << "</small></td></tr>\n<tr><th>Status</th><td>" << esc(info.status) << ", " << run.steps.size()
      << " steps, started " << esc(info.started) << "</td></tr>\n<tr><th>Dense perplexity</th><td>"
      << fmt(info.densePerplexity) << "</td></tr>\n<tr><th>Options</th><td>" << esc(optionsText(info))
      << "</td></tr>\n</table>\n";
    h << traceFigure(run, style, figures);
    h << layerMapFigure(run, style, figures);
    h << "<h3>Steps</h3>\n" << stepsTable(run);
    h << "<h3>Protocol cards</h3>\n<p>Calibration (what the search scored on):</p>\n<pre class=\"card\">"
      << esc(info.calibrationProtocol.card()) << "</pre>\n";
    if (info.evaluationProtocol)
        h << "<p>Evaluation (each step's perplexity and KL):</p>\n<pre class=\"card\">"
          << esc(info.evaluationProtocol->card()) << "</pre>\n";
    h << ppaSection(run, style, figures);
    return h.str();
}

const char *css(ChartStyle::Theme theme)
{
    if (theme == ChartStyle::Theme::Dark)
        return "body{background:#1e1e1e;color:#eee}th{background:#333}td,th{border-color:#555}pre.card{background:#"
               "2a2a2a}";
    return "body{background:#fff;color:#222}th{background:#eee}td,th{border-color:#ccc}pre.card{background:#f6f6f6}";
}

} // namespace

std::string reportHtml(const std::string &experimentPath, const Experiment &e, const ReportOptions &o)
{
    const std::set<std::string> ids(o.ids.begin(), o.ids.end());
    for (const std::string &id : ids)
        if (!e.find(id) && !e.findSweep(id))
            throw std::invalid_argument(experimentPath + " has no run or sweep \"" + id + "\"");
    const auto chosen = [&](const std::string &id) { return ids.empty() || ids.count(id); };
    Figures figures;
    std::ostringstream body;
    int runs = 0, sweeps = 0;
    for (const ExperimentRun &r : e.runs)
        if (chosen(r.info.id)) {
            body << runSection(r, o.chart, figures);
            ++runs;
        }
    for (const SweepRecord &s : e.sweeps)
        if (chosen(s.id)) {
            body << sweepSection(s, o.chart, figures);
            ++sweeps;
        }
    const std::string name = std::filesystem::path(experimentPath).filename().string();
    std::ostringstream h;
    h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Blockscope report: "
      << esc(name) << "</title>\n<style>\nbody{font-family:'DejaVu Sans',Arial,sans-serif;font-size:"
      << fmt(14 * o.chart.fontScale, "%.1f")
      << "px;margin:2em;max-width:60em}\ntable{border-collapse:collapse;margin:0.5em 0 1em}\ntd,th{border:1px "
         "solid;padding:2px 6px;text-align:left;vertical-align:top}\nfigure{margin:1em 0}\nfigcaption{font-size:"
         "90%;max-width:50em}\npre.card{padding:0.5em;white-space:pre-wrap}\n"
      << css(o.chart.theme) << "\n</style>\n</head>\n<body>\n<h1>Blockscope report: " << esc(name) << "</h1>\n<p>"
      << esc(std::filesystem::absolute(experimentPath).lexically_normal().string()) << "<br><small>"
      << esc(contentHash(experimentPath)) << "</small><br>" << runs << " run(s), " << sweeps
      << " sparsity sweep(s); written " << esc(utcTimestamp()) << " by Blockscope " << BLOCKSCOPE_REPORT_VERSION
      << ". Every figure says whether it is measured (run by Blockscope on this machine) or modelled (computed "
         "from the architecture).</p>\n"
      << body.str() << "</body>\n</html>\n";
    return h.str();
}

void writeReport(const std::string &experimentPath, const Experiment &e, const ReportOptions &o, const std::string &out)
{
    const std::string suffix = std::filesystem::path(out).extension().string();
    if (suffix != ".html" && suffix != ".htm" && suffix != ".pdf")
        throw std::invalid_argument("report " + out + ": the name must end in .html or .pdf");
    std::string html = reportHtml(experimentPath, e, o);
    if (suffix != ".pdf") {
        writeFileAtomically(out, html);
        return;
    }
    {
        // QTextDocument draws no SVG: every chart becomes an image at the PDF's resolution.
        QTextDocument doc;
        std::string printable;
        std::size_t at = 0;
        for (int i = 0;; ++i) {
            const std::string marker = "<!--chart " + std::to_string(i) + "-->\n";
            const auto m = html.find(marker, at);
            if (m == std::string::npos)
                break;
            const auto start = m + marker.size(), end = html.find("</svg>\n", start) + 7;
            const std::string svg = html.substr(start, end - start);
            const auto [w, h] = svgSize(svg);
            QSvgRenderer renderer(QByteArray::fromStdString(svg));
            const double scale = o.dpi / 96.0;
            QImage image(static_cast<int>(w * scale), static_cast<int>(h * scale), QImage::Format_ARGB32);
            image.fill(Qt::white);
            QPainter painter(&image);
            renderer.render(&painter);
            painter.end();
            const QString url = QStringLiteral("chart-%1.png").arg(i);
            doc.addResource(QTextDocument::ImageResource, QUrl(url), image);
            printable += html.substr(at, m - at) + "<img src=\"" + url.toStdString() + "\" width=\""
                + std::to_string(static_cast<int>(w * 0.75)) + "\" height=\""
                + std::to_string(static_cast<int>(h * 0.75)) + "\">\n";
            at = end;
        }
        printable += html.substr(at);
        // QTextDocument knows no <figure>: captions become paragraphs under their image.
        for (const auto &[from, to] : {std::pair<std::string, std::string>{"<figure>", "<div>"},
                 {"</figure>", "</div>"}, {"<figcaption>", "<p style=\"font-size:90%\">"}, {"</figcaption>", "</p>"}})
            for (std::size_t p = printable.find(from); p != std::string::npos; p = printable.find(from, p + to.size()))
                printable.replace(p, from.size(), to);
        doc.setHtml(QString::fromStdString(printable));
        QBuffer pdf;
        pdf.open(QIODevice::WriteOnly);
        QPdfWriter writer(&pdf);
        writer.setPageSize(QPageSize(QPageSize::A4));
        writer.setResolution(static_cast<int>(o.dpi));
        writer.setTitle(QStringLiteral("Blockscope report: %1")
                            .arg(QString::fromStdString(std::filesystem::path(experimentPath).filename().string())));
        writer.setCreator(QStringLiteral("Blockscope"));
        doc.print(&writer);
        writeFileAtomically(out, std::string_view(pdf.data().constData(), static_cast<std::size_t>(pdf.size())));
    }
}

} // namespace blockscope::report
