#pragma once

#include <QSize>
#include <QString>
#include <QStringList>

namespace blockscope::gui {

// What `blockscope [PATH]` was asked to do.
struct GuiOptions
{
    QString path; // model to open; empty for the default (see defaultmodel.h)
    QString screenshot; // hidden: save a grab of the window here once statistics are done, then quit
    QString select; // hidden: tensor name or group path ("Block 0/MLP") to select first
    QSize windowSize; // hidden: initial size, for reproducible screenshots
    QString experiment; // experiment file to open on the pruning page
    QString page; // hidden: "model", "pruning", "attention" or "ppa", the page shown first
    QStringList runs; // hidden: runs of the experiment to select ("run-0001"; two compare them)
    QStringList whatIf; // hidden: units to switch off for what-if ("attn 2", "block 1")
    QString attentionText; // hidden: text file for the attention page
    QString gates; // gate file (.seergate.safetensors) for the attention page
    int layer = -1; // hidden: the attention page's layer
    QString attentionTab; // hidden: "heatmaps", "tokens", "sweep" or "training"
    QString trainGates; // hidden: train gates into this file on the attention page (then load them)
    qint64 trainSteps = 0; // hidden: steps for --train-gates (0: the form's default)
    bool sweep = false; // hidden: run the sparsity sweep on the attention page
    // hidden: a search to start on the pruning page once the model is open, as the form would
    // (method with target, calibration and evaluation windows, text and file; 0/empty: the form's)
    struct PruneStart
    {
        QString method; // empty: none
        double target = 0;
        int calibrationWindows = 0;
        int evaluationWindows = 0;
        QString text;
        QString out;
        int shotAtCandidate = 0; // a screenshot once this many candidates are scored (mid-step); 0: at the end
        bool earlyStop = false; // SLEB: stop candidates that cannot win
    } prune;
    bool computePpa = false; // hidden: Compute PPA for the PPA page's first run once it is read
    QString error; // set when the arguments are unusable; the caller prints it and exits
    bool exitNow = false; // --help or --version was handled
};

// Parses the application's arguments (argv[0] first). Prints help/version itself, like
// QCommandLineParser::process(), but never exits so that tests can call it.
GuiOptions parseCommandLine(const QStringList &arguments);

} // namespace blockscope::gui
