#include "commands.h"

#include "clicommon.h"
#include "common/formaterror.h"
#include "jobs/jobcontext.h"
#include "sparse/attentionsnapshot.h"
#include "sparse/gates.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#ifdef BLOCKSCOPE_CLI_RENDER
#include "render/gridcsv.h"
#include "render/heatmapfigure.h"

#include <QGuiApplication>
#endif

namespace blockscope::cli {

namespace {

using namespace blockscope::sparse;

struct AttentionArgs
{
    AttentionSession::Options session;
    std::string textPath;
    int layer = 0;
    std::string head = "mean";
    std::string map = "truth";
    int block = 64;
    std::vector<double> threshold, density;
    bool noLastDense = false;
    std::string png, csv;
};

std::string readText(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw UsageError("--text: cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

#ifdef BLOCKSCOPE_CLI_RENDER
int render(const AttentionArgs &a)
{
    // The command never opens a window: draw offscreen whatever the environment says.
    static int argc = 3;
    static char arg0[] = "blockscope-cli", arg1[] = "-platform", arg2[] = "offscreen";
    static char *argv[] = {arg0, arg1, arg2, nullptr};
    QGuiApplication app(argc, argv);

    if (a.threshold.size() + a.density.size() > 1)
        throw UsageError("give at most one of --threshold and --density");
    AttentionSession session(a.session);
    if (a.layer < 0 || a.layer >= session.layers())
        throw UsageError(
            "--layer " + std::to_string(a.layer) + ": the model has layers 0.." + std::to_string(session.layers() - 1));
    int head = -1;
    if (a.head != "mean") {
        try {
            head = std::stoi(a.head);
        } catch (const std::exception &) {
            throw UsageError("--head: \"" + a.head + "\" is neither a head number nor \"mean\"");
        }
        if (head < 0 || head >= session.heads())
            throw UsageError("--head " + a.head + ": the model has heads 0.." + std::to_string(session.heads() - 1));
    }
    if ((a.map == "gate" || !a.threshold.empty() || !a.density.empty()) && !session.hasGates())
        throw UsageError("--map gate, --threshold and --density need --gates");
    SnapshotOptions so;
    so.blockSize = a.block;
    bool truncated = false;
    JobContext job;
    const LayerAttentionSnapshot snap = session.snapshot(readText(a.textPath), a.layer, so, &job, &truncated);
    const HeadAttention &h = head < 0 ? snap.meanOverHeads : snap.heads[static_cast<std::size_t>(head)];

    render::HeatmapFigure fig;
    const QString headText
        = head < 0 ? QStringLiteral("mean over %1 heads").arg(snap.heads.size()) : QStringLiteral("head %1").arg(head);
    fig.subtitle = QStringLiteral("%1 · layer %2 · %3 · %4 tokens%5 · block %6")
                       .arg(QString::fromStdString(a.session.modelPath).section(QLatin1Char('/'), -1))
                       .arg(a.layer)
                       .arg(headText)
                       .arg(snap.tokens)
                       .arg(truncated ? QStringLiteral(" (cut)") : QString())
                       .arg(snap.blockSize);
    std::vector<QString> labels;
    if (a.map == "tokens") {
        if (h.tokenProbs.empty())
            throw UsageError("--map tokens: the text has " + std::to_string(snap.tokens)
                + " tokens; the token-level map is kept for up to " + std::to_string(so.tokenViewLimit));
        fig.title = QStringLiteral("Token-level attention");
        fig.grid = BlockGrid(snap.tokens);
        fig.grid.values = h.tokenProbs;
        for (const auto &t : snap.tokenTexts)
            labels.push_back(QString::fromStdString(t));
        fig.labels = labels;
        fig.rowTitle = QStringLiteral("query token");
        fig.columnTitle = QStringLiteral("key token");
    } else if (a.map == "gate") {
        fig.title = QStringLiteral("Gate prediction softmax(S)");
        fig.grid = h.gateProbs;
    } else {
        fig.title = QStringLiteral("Block attention (ground truth, row-normalised block max)");
        fig.grid = h.truth;
    }
    MaskRule rule;
    bool withMask = false;
    if (!a.threshold.empty() || !a.density.empty()) {
        withMask = true;
        rule.kind = a.threshold.empty() ? MaskRule::Kind::Density : MaskRule::Kind::Threshold;
        rule.value = a.threshold.empty() ? a.density.front() : a.threshold.front();
        rule.lastBlockDense = !a.noLastDense;
        std::vector<BlockMask> masks;
        if (head < 0)
            for (const auto &one : snap.heads)
                masks.push_back(selectMask(one.gateLogits, rule));
        else
            masks.push_back(selectMask(h.gateLogits, rule));
        render::MaskOverlay overlay = render::MaskOverlay::fromMasks(masks);
        fig.mask = a.map == "tokens" ? overlay.expandedToTokens(snap.tokens, snap.blockSize) : overlay;
        double tile = 0, recall = 0;
        for (std::size_t i = 0; i < masks.size(); ++i) {
            const HeadAttention &one = head < 0 ? snap.heads[i] : h;
            const MaskStats st = maskStats(masks[i], snap.tokens, snap.blockSize, one.tokenMass, one.blockMass);
            tile += st.tileDensity;
            recall += st.recallMean;
        }
        std::printf("mask: %s, tile density %.4f (sparsity %.4f), attention-mass recall %.4f\n",
            rule.describe().c_str(), tile / masks.size(), 1 - tile / masks.size(), recall / masks.size());
    }
    (void)withMask;
    QString error;
    if (!a.png.empty() && !render::saveHeatmap(fig, QString::fromStdString(a.png), &error))
        throw UsageError("--png: " + error.toStdString());
    if (!a.csv.empty() && !render::writeGridCsv(fig.grid, QString::fromStdString(a.csv), &error, true, labels))
        throw UsageError("--csv: " + error.toStdString());
    std::printf("layer %d, %s: %d tokens, %d x %d blocks of %d%s\n", a.layer, headText.toStdString().c_str(),
        snap.tokens, snap.nb, snap.nb, snap.blockSize, truncated ? " (text cut to --max-tokens)" : "");
    if (!a.png.empty())
        std::printf("wrote %s\n", a.png.c_str());
    if (!a.csv.empty())
        std::printf("wrote %s\n", a.csv.c_str());
    return ExitOk;
}
#endif

} // namespace

void addAttentionCommand(CLI::App &app, int &exitCode)
{
    auto a = std::make_shared<AttentionArgs>();
    auto cmd = app.add_subcommand("attention",
        "Render a block-level attention heatmap (ground truth, gate prediction or token level) to PNG/SVG/PDF "
        "and its matrix to CSV");
    addModelArgument(cmd, a->session.modelPath);
    cmd->add_option("--text", a->textPath, "Text file whose attention to show")->required();
    cmd->add_option("--layer", a->layer, "Layer (0-based)")->required();
    cmd->add_option("--head", a->head, "Query head, or \"mean\" for the mean over heads")->capture_default_str();
    cmd->add_option("--map", a->map, "truth (block ground truth), gate (softmax of the gate scores) or tokens")
        ->capture_default_str()
        ->check(CLI::IsMember({"truth", "gate", "tokens"}));
    cmd->add_option("--gates", a->session.gatesPath, "Gate file: adds the gate map and mask overlays");
    cmd->add_option("--block", a->block, "Block size without gates (with gates: theirs)")->capture_default_str();
    cmd->add_option("--threshold", a->threshold, "Overlay the mask of threshold τ");
    cmd->add_option("--density", a->density, "Overlay the mask of top-k density ρ");
    cmd->add_flag("--no-last-block-dense", a->noLastDense, "Do not force the last two query-block rows");
    cmd->add_option("--max-tokens", a->session.maxTokens, "Cut the text to this many tokens")->capture_default_str();
    addDeviceOption(cmd, a->session.device);
    cmd->add_option("--tokenizer", a->session.tokenizerPath, "Tokenizer file");
    cmd->add_option("--png", a->png, "Figure to write (.png, .svg or .pdf)");
    cmd->add_option("--csv", a->csv, "The shown matrix as CSV");
    cmd->callback([a, &exitCode] {
        exitCode = guarded("attention", [&]() -> int {
            if (a->png.empty() && a->csv.empty())
                throw UsageError("give --png and/or --csv");
#ifdef BLOCKSCOPE_CLI_RENDER
            return render(*a);
#else
            throw UsageError("this build has no Qt Gui (configured with BLOCKSCOPE_BUILD_GUI=OFF), so it cannot "
                             "draw heatmaps; use a build with the GUI");
#endif
        });
    });
}

} // namespace blockscope::cli
