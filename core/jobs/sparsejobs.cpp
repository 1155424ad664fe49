// The SeerAttention jobs as the CLI and the app run them (jobs/sparsejobs.h): open the model and
// the text, train or sweep, write the gate file or the experiment file.
#include "sparsejobs.h"

#include "common/contenthash.h"
#include "common/formaterror.h"
#include "common/timestamp.h"
#include "dist/rankjob.h"
#include "eval/perplexity.h"
#include "eval/runsetup.h"
#include "jobs/jobcontext.h"
#include "model/decoder.h"
#include "model/modelhandle.h"
#include "sparse/gates.h"
#include "store/experimentcheck.h"
#include "store/experimentfile.h"
#include "store/experimentlock.h"
#include "store/traceexport.h"
#include "text/tokenizer.h"

#include <ATen/Parallel.h>
#include <algorithm>
#include <optional>

namespace blockscope::sparse {

namespace {

struct Opened
{
    std::shared_ptr<const ModelHandle> model;
    std::unique_ptr<Tokenizer> tokenizer;
    Protocol protocol;
    std::unique_ptr<Decoder> decoder;
};

Opened openFor(const std::string &modelPath, const std::string &tokenizerPath, const std::string &protocol,
    std::int64_t context, const std::string &device, JobContext &job)
{
    Opened o;
    job.stage("opening the model");
    o.model = ModelHandle::open(modelPath);
    o.protocol = resolveProtocol(protocol, context, 0, o.model->architecture().context);
    o.protocol.device = device;
    o.tokenizer = loadTokenizerFor(*o.model, tokenizerPath);
    o.decoder = std::make_unique<Decoder>(o.model, decoderOptionsFor(device, "float32"));
    return o;
}

} // namespace

namespace {

// One process's part of the training: all of it, or one rank's.
GateTrainResult trainHere(const GateTrainJob &r, JobContext &job)
{
    if (r.threads > 0)
        at::set_num_threads(r.threads);
    if (r.group != nullptr && r.group->world() > 1) {
        job.stage("checking that the ranks agree");
        const GateTrainOptions &p = r.options;
        r.group->requireSame("the model's content hash", contentHash(r.modelPath));
        r.group->requireSame("the training text's content hash", contentHash(r.calibPath));
        r.group->requireSame("the training options",
            "steps " + std::to_string(p.steps) + " batch " + std::to_string(p.batch) + " lr " + std::to_string(p.lr)
                + " min-lr " + std::to_string(p.minLr) + " warmup " + std::to_string(p.warmup) + " decay "
                + std::to_string(p.weightDecay) + " block " + std::to_string(p.blockSize) + " d_g "
                + std::to_string(p.gateDim) + " seed " + std::to_string(p.seed) + " protocol " + r.protocol
                + " context " + std::to_string(r.context) + " windows " + std::to_string(r.calibrationWindows)
                + " device " + r.device + (r.resume ? " resume" : ""));
    }
    Opened o = openFor(r.modelPath, r.tokenizerPath, r.protocol, r.context, r.device, job);
    job.stage("tokenizing");
    const WindowSet calib
        = windowsForText(r.calibPath, *o.tokenizer, o.protocol, TextPool::Calibration, r.calibrationWindows);
    WindowSet held;
    if (r.heldOutWindows > 0)
        held = windowsForText(r.calibPath, *o.tokenizer, o.protocol, TextPool::Evaluation, r.heldOutWindows);
    GateTrainRequest q;
    q.decoder = o.decoder.get();
    q.calibration = &calib;
    q.heldOut = r.heldOutWindows > 0 ? &held : nullptr;
    q.options = r.options;
    q.outPath = r.outPath;
    q.resume = r.resume;
    q.onStep = r.onStep;
    q.onEval = r.onEval;
    q.group = r.group;
    return trainGates(q, job);
}

} // namespace

GateTrainResult runGateTrainJob(const GateTrainJob &r, JobContext &job)
{
    if (const std::string why = r.options.validate(); !why.empty())
        throw UsageError(why);
    return dist::runAsRank(r.group, job, [&](JobContext &work) { return trainHere(r, work); });
}

SparsitySweepReport runSparsitySweep(const SparsitySweepJob &r, JobContext &job)
{
    // A damaged experiment file to add to is refused before the sweep, not after it.
    std::optional<ExperimentWriteLock> writeLock;
    if (!r.experimentPath.empty()) {
        checkExistingExperiment(r.experimentPath);
        writeLock.emplace(r.experimentPath); // this process's to write until the sweep is in it
    }
    const ppa::DeviceTable table = ppa::DeviceTable::builtIn();
    std::vector<const ppa::DeviceSpec *> targets;
    for (const std::string &name : r.predictFor) {
        const ppa::DeviceSpec *d = table.find(name);
        if (!d)
            throw UsageError("--predict-for: no device \"" + name + "\" in the device table (" + table.names() + ")");
        targets.push_back(d);
    }
    Opened o = openFor(r.modelPath, r.tokenizerPath, r.protocol, r.context, r.device, job);
    std::optional<GateSet> gates;
    if (!r.gatesPath.empty())
        gates = GateSet::load(r.gatesPath, *o.decoder);
    else if (r.source == MaskSource::Gates)
        throw UsageError("--gates: a gate file is needed for a sweep of gate masks");
    job.stage("tokenizing");
    const WindowSet set = windowsForText(r.textPath, *o.tokenizer, o.protocol, TextPool::Evaluation, r.windows);
    std::vector<MaskRule> rules = r.rules;
    if (rules.empty())
        for (double d : {1.0, 0.5, 0.4, 0.3, 0.2, 0.1})
            rules.push_back({MaskRule::Kind::Density, d, true, false, false});
    SparsitySweepReport report;
    const double dense = evaluatePerplexity(*o.decoder, set, UnitMask::dense(o.decoder->layers()), &job, 8).perplexity;
    const Architecture &arch = o.model->architecture();
    for (const MaskRule &rule : rules) {
        SparseEvalResult e = evaluateSparse(*o.decoder, set, gates ? &*gates : nullptr, rule, &job, r.source, 0, dense);
        // The PPA point of this setting: the dense model's costs with attention at the realised pair density.
        ppa::Workload w;
        w.seq = static_cast<int>(std::max<std::int64_t>(1, e.windowTokens));
        w.attentionDensity = std::clamp(e.mean.pairDensity, 1e-9, 1.0);
        e.ppa.label = rule.describe();
        e.ppa.mask = UnitMask::dense(o.decoder->layers());
        e.ppa.attentionDensity = w.attentionDensity;
        e.ppa.perplexity = e.perplexity;
        e.ppa.protocol = set.protocol.oneLine();
        e.ppa.costs = ppa::analyticCosts(arch, o.model->tensors(), e.ppa.mask, w);
        for (const ppa::DeviceSpec *d : targets)
            e.ppa.predictions.push_back(ppa::predict(e.ppa.costs, *d, w));
        if (r.onPoint)
            r.onPoint(e);
        report.points.push_back(std::move(e));
    }
    if (!r.experimentPath.empty()) {
        SweepRecord s;
        s.label = r.label;
        s.masks = maskSourceName(r.source);
        s.modelPath = r.modelPath;
        s.modelHash = contentHash(r.modelPath);
        s.gatesPath = r.gatesPath;
        if (!r.gatesPath.empty())
            s.gatesHash = contentHash(r.gatesPath);
        s.textPath = r.textPath;
        s.protocol = set.protocol.oneLine();
        s.blockSize = gates ? gates->config().blockSize : 64;
        s.densePerplexity = dense;
        s.started = utcTimestamp();
        for (const SparseEvalResult &e : report.points)
            s.points.push_back(sweepPointOf(e));
        report.sweepId = ExperimentFile::addSweep(r.experimentPath, std::move(s));
    }
    return report;
}

} // namespace blockscope::sparse
