#include "commandline.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <cstdio>

namespace blockscope::gui {

namespace {
// "sleb,target=1,calib=2,eval=4,text=t.txt,out=x.h5,shot=5" into `start`; returns the error, or empty.
QString parsePruneStart(const QString &spec, GuiOptions::PruneStart &start)
{
    const QStringList items = spec.split(QLatin1Char(','), Qt::SkipEmptyParts);
    const QStringList methods{"sleb", "finercut", "evopress", "shortgpt", "angular"};
    if (items.isEmpty() || !methods.contains(items.front().trimmed()))
        return QStringLiteral("--prune expects METHOD[,key=value...] with METHOD one of %1, got '%2'")
            .arg(methods.join(QStringLiteral(", ")), spec);
    start.method = items.front().trimmed();
    for (qsizetype i = 1; i < items.size(); ++i) {
        const QString item = items[i].trimmed();
        const qsizetype eq = item.indexOf(QLatin1Char('='));
        const QString key = item.left(eq).trimmed();
        const QString value = eq < 0 ? QString() : item.mid(eq + 1).trimmed();
        bool ok = eq > 0 && !value.isEmpty();
        if (ok && key == QLatin1String("target")) {
            start.target = value.toDouble(&ok);
            ok = ok && start.target > 0;
        } else if (ok && key == QLatin1String("calib")) {
            start.calibrationWindows = value.toInt(&ok);
            ok = ok && start.calibrationWindows > 0;
        } else if (ok && key == QLatin1String("eval")) {
            start.evaluationWindows = value.toInt(&ok);
            ok = ok && start.evaluationWindows >= 0;
        } else if (ok && key == QLatin1String("text")) {
            start.text = value;
        } else if (ok && key == QLatin1String("out")) {
            start.out = value;
        } else if (ok && key == QLatin1String("early")) {
            start.earlyStop = value == QLatin1String("1");
            ok = start.earlyStop || value == QLatin1String("0");
        } else if (ok && key == QLatin1String("shot")) {
            start.shotAtCandidate = value.toInt(&ok);
            ok = ok && start.shotAtCandidate > 0;
        } else {
            ok = false;
        }
        if (!ok)
            return QStringLiteral(
                "--prune: '%1' is not target=X (> 0), calib=N (> 0), eval=N, text=FILE, out=FILE, early=0|1 or "
                "shot=N (> 0)")
                .arg(item);
    }
    return {};
}
} // namespace

GuiOptions parseCommandLine(const QStringList &arguments)
{
    GuiOptions o;
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Block-level workbench for compressing and understanding LLMs"));
    const auto help = parser.addHelpOption();
    const auto version = parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("path"),
        QStringLiteral("Checkpoint to open: a Hugging Face folder, .safetensors, .gguf or llama2.c .bin"),
        QStringLiteral("[path]"));
    // For scripts that regenerate the documentation's screenshots; not part of the user interface.
    QCommandLineOption screenshot(
        QStringLiteral("screenshot"), QStringLiteral("Save a PNG of the window and quit."), QStringLiteral("file"));
    screenshot.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption select(QStringLiteral("select"), QStringLiteral("Select a tensor or group (\"Block 0/MLP\")."),
        QStringLiteral("item"));
    select.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption size(
        QStringLiteral("size"), QStringLiteral("Initial window size, WxH."), QStringLiteral("size"));
    size.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption experiment(QStringLiteral("experiment"),
        QStringLiteral("Experiment file (.h5) to open on the pruning page."), QStringLiteral("file"));
    QCommandLineOption page(QStringLiteral("page"),
        QStringLiteral("Page to show first: model, pruning, attention or ppa."), QStringLiteral("page"));
    page.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption runs(QStringLiteral("runs"),
        QStringLiteral("Runs of the experiment to select, comma-separated (two: compare)."), QStringLiteral("ids"));
    runs.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption whatIf(QStringLiteral("what-if"),
        QStringLiteral("Units to switch off for what-if, comma-separated (\"attn 2,block 1\")."),
        QStringLiteral("units"));
    whatIf.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption gates(QStringLiteral("gates"),
        QStringLiteral("SeerAttention gate file (.seergate.safetensors) for the attention page."),
        QStringLiteral("file"));
    // The attention page's state at start, for the documentation's screenshots.
    QCommandLineOption attentionText(QStringLiteral("attention-text"),
        QStringLiteral("Text file to show on the attention page."), QStringLiteral("file"));
    attentionText.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption layer(
        QStringLiteral("layer"), QStringLiteral("Layer shown on the attention page."), QStringLiteral("n"));
    layer.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption attentionTab(QStringLiteral("attention-tab"),
        QStringLiteral("Attention page tab: heatmaps, tokens, sweep or training."), QStringLiteral("tab"));
    attentionTab.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption trainGates(QStringLiteral("train-gates"),
        QStringLiteral("Train gates into this file on the attention page, then show them."), QStringLiteral("file"));
    trainGates.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption trainSteps(
        QStringLiteral("train-steps"), QStringLiteral("Steps for --train-gates."), QStringLiteral("n"));
    trainSteps.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption sweep(
        QStringLiteral("sweep"), QStringLiteral("Run the perplexity-against-sparsity sweep on the attention page."));
    sweep.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption prune(QStringLiteral("prune"),
        QStringLiteral(
            "Start a search on the pruning page: METHOD[,target=X][,calib=N][,eval=N][,text=FILE][,out=FILE][,shot=N]; "
            "shot=N takes the screenshot once N candidates are scored."),
        QStringLiteral("spec"));
    prune.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption computePpa(
        QStringLiteral("compute-ppa"), QStringLiteral("Compute PPA for the first run of the PPA page's experiment."));
    computePpa.setFlags(QCommandLineOption::HiddenFromHelp);
    parser.addOptions({screenshot, select, size, experiment, page, runs, whatIf, gates, attentionText, layer,
        attentionTab, trainGates, trainSteps, sweep, prune, computePpa});

    if (!parser.parse(arguments)) {
        o.error = parser.errorText();
        return o;
    }
    if (parser.isSet(help)) {
        std::fputs(qPrintable(parser.helpText()), stdout);
        o.exitNow = true;
        return o;
    }
    if (parser.isSet(version)) {
        std::printf("%s %s\n", qPrintable(QCoreApplication::applicationName()),
            qPrintable(QCoreApplication::applicationVersion()));
        o.exitNow = true;
        return o;
    }
    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1) {
        o.error = QStringLiteral("expected at most one path, got %1").arg(positional.size());
        return o;
    }
    if (!positional.isEmpty())
        o.path = positional.front();
    o.screenshot = parser.value(screenshot);
    o.select = parser.value(select);
    o.experiment = parser.value(experiment);
    o.page = parser.value(page);
    if (!o.page.isEmpty() && !QStringList({"model", "pruning", "attention", "ppa"}).contains(o.page)) {
        o.error = QStringLiteral("--page expects model, pruning, attention or ppa, got '%1'").arg(o.page);
        return o;
    }
    o.gates = parser.value(gates);
    o.attentionText = parser.value(attentionText);
    o.attentionTab = parser.value(attentionTab);
    if (!o.attentionTab.isEmpty()
        && !QStringList({"heatmaps", "tokens", "sweep", "training"}).contains(o.attentionTab)) {
        o.error = QStringLiteral("--attention-tab expects heatmaps, tokens, sweep or training, got '%1'")
                      .arg(o.attentionTab);
        return o;
    }
    if (parser.isSet(layer)) {
        bool ok = false;
        o.layer = parser.value(layer).toInt(&ok);
        if (!ok || o.layer < 0) {
            o.error = QStringLiteral("--layer expects a layer number, got '%1'").arg(parser.value(layer));
            return o;
        }
    }
    o.trainGates = parser.value(trainGates);
    if (parser.isSet(trainSteps)) {
        bool ok = false;
        o.trainSteps = parser.value(trainSteps).toLongLong(&ok);
        if (!ok || o.trainSteps <= 0) {
            o.error = QStringLiteral("--train-steps expects a positive number, got '%1'").arg(parser.value(trainSteps));
            return o;
        }
    }
    o.sweep = parser.isSet(sweep);
    o.computePpa = parser.isSet(computePpa);
    if (parser.isSet(prune)) {
        o.error = parsePruneStart(parser.value(prune), o.prune);
        if (!o.error.isEmpty())
            return o;
    }
    auto list = [&](const QCommandLineOption &option) {
        QStringList items;
        for (const QString &item : parser.value(option).split(QLatin1Char(','), Qt::SkipEmptyParts))
            items << item.trimmed();
        return items;
    };
    o.runs = list(runs);
    o.whatIf = list(whatIf);
    if (parser.isSet(size)) {
        const QStringList wh = parser.value(size).split(QLatin1Char('x'));
        bool okW = false, okH = false;
        if (wh.size() == 2)
            o.windowSize = QSize(wh[0].toInt(&okW), wh[1].toInt(&okH));
        if (!okW || !okH || o.windowSize.width() < 200 || o.windowSize.height() < 200) {
            o.error = QStringLiteral("--size expects WxH, e.g. 1500x950");
            return o;
        }
    }
    return o;
}

} // namespace blockscope::gui
