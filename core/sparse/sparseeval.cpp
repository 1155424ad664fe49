// Evaluating block-sparse prefill (seerattention.md §5, §7) and the job entry points shared by the
// CLI and the app.
#include "attentionkernels.h"
#include "common/formaterror.h"
#include "common/timestamp.h"
#include "eval/perplexity.h"
#include "eval/runsetup.h"
#include "gateimpl.h"
#include "gatetraining.h"
#include "jobs/jobcontext.h"
#include "model/decoder.h"
#include "model/modelhandle.h"
#include "store/contenthash.h"
#include "store/experimentcheck.h"
#include "store/experimentfile.h"
#include "store/experimentlock.h"
#include "text/tokenizer.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace blockscope::sparse {

namespace {

struct LayerAccumulator
{
    double tile = 0, learned = 0, pair = 0;
    std::int64_t heads = 0, emptyRows = 0;
    std::vector<float> recall; // every token of every head and window
};

SparseLayerStats finish(LayerAccumulator &a)
{
    SparseLayerStats s;
    if (a.heads == 0)
        return s;
    s.tileDensity = a.tile / static_cast<double>(a.heads);
    s.tileDensityLearned = a.learned / static_cast<double>(a.heads);
    s.pairDensity = a.pair / static_cast<double>(a.heads);
    s.emptyRows = a.emptyRows;
    if (!a.recall.empty()) {
        double sum = 0;
        for (float r : a.recall)
            sum += r;
        s.recallMean = sum / static_cast<double>(a.recall.size());
        std::sort(a.recall.begin(), a.recall.end());
        s.recallMin = a.recall.front();
        s.recallP5 = a.recall[static_cast<std::size_t>(std::floor(0.05 * static_cast<double>(a.recall.size() - 1)))];
    }
    return s;
}

} // namespace

namespace {

SparseEvalResult evaluateSparseWith(const Decoder &decoder, const WindowSet &windows, const GateSet *gates,
    const MaskRule &rule, JobContext *job, MaskSource source, std::uint64_t seed, double densePerplexity)
{
    c10::NoGradGuard noGrad;
    if (source == MaskSource::Gates && !gates)
        throw UsageError("--gates: a gate file is needed to evaluate gate masks");
    if ((source == MaskSource::Static || source == MaskSource::Random) && rule.kind != MaskRule::Kind::Density)
        throw UsageError("the static and random baselines take a density, not a threshold");
    const int L = decoder.layers();
    const int B = gates ? gates->config().blockSize : 64;
    std::vector<LayerAccumulator> acc(static_cast<std::size_t>(L));
    std::int64_t window = 0;
    ForwardCapture cap;
    cap.attentionHook = [&](const AttentionInputs &in) {
        const auto b = in.queries.size(0), H = in.queries.size(1), N = in.queries.size(2);
        const int nb = static_cast<int>((N + B - 1) / B);
        std::vector<BlockMask> masks;
        at::Tensor S;
        if (source == MaskSource::Gates)
            S = gates->impl().logits(in).cpu();
        else if (source == MaskSource::Oracle)
            S = blockAttentionMaps(
                in.queries.to(at::kFloat), in.keys.to(at::kFloat), in.values.to(at::kFloat), B, in.scale)
                    .truth.cpu();
        for (std::int64_t bi = 0; bi < b; ++bi)
            for (std::int64_t h = 0; h < H; ++h) {
                switch (source) {
                case MaskSource::Gates:
                case MaskSource::Oracle: masks.push_back(selectMask(toGrid(S[bi][h]), rule)); break;
                case MaskSource::Static: masks.push_back(staticMask(nb, rule.value, rule.lastBlockDense)); break;
                case MaskSource::Random:
                    masks.push_back(randomMask(nb, rule.value,
                        seed + static_cast<std::uint64_t>(((window + bi) * L + in.layer) * H + h),
                        rule.lastBlockDense));
                    break;
                }
            }
        // The CPU references compute in float32 (or float64); CUDA kernels take the model's dtype.
        const bool widen = !in.queries.is_cuda() && in.queries.scalar_type() != at::kDouble;
        const at::Tensor q = widen ? in.queries.to(at::kFloat) : in.queries;
        const at::Tensor k = widen ? in.keys.to(at::kFloat) : in.keys;
        const at::Tensor v = widen ? in.values.to(at::kFloat) : in.values;
        at::Tensor mask = masksToTensor(masks, b, H, in.queries.device());
        at::Tensor recall = attentionMassRecall(q, k, mask, B, in.scale).cpu().contiguous();
        LayerAccumulator &a = acc[static_cast<std::size_t>(in.layer)];
        const float *r = recall.data_ptr<float>();
        a.recall.insert(a.recall.end(), r, r + recall.numel());
        for (const BlockMask &m : masks) {
            const MaskStats st = maskStats(m, static_cast<int>(N), B, {}, BlockGrid(nb));
            a.tile += st.tileDensity;
            a.learned += st.tileDensityLearned;
            a.pair += st.pairDensity;
            ++a.heads;
        }
        SparseAttentionResult out = blockSparseAttention(q, k, v, mask, B, in.scale);
        a.emptyRows += out.emptyRows;
        if (in.layer == L - 1)
            window += b;
        return out.output;
    };
    SparseEvalResult r;
    r.rule = rule;
    const UnitMask dense = UnitMask::dense(L);
    r.densePerplexity
        = densePerplexity > 0 ? densePerplexity : evaluatePerplexity(decoder, windows, dense, job, 8).perplexity;
    const PerplexityResult p = evaluatePerplexity(decoder, windows, dense, job, 8, &cap);
    r.perplexity = p.perplexity;
    r.tokens = p.scored;
    r.windowTokens = windows.windows.empty() ? 0 : static_cast<std::int64_t>(windows.windows.front().ids.size());
    LayerAccumulator all;
    double minRecall = std::numeric_limits<double>::infinity();
    for (auto &a : acc) {
        all.tile += a.tile;
        all.learned += a.learned;
        all.pair += a.pair;
        all.heads += a.heads;
        all.emptyRows += a.emptyRows;
        all.recall.insert(all.recall.end(), a.recall.begin(), a.recall.end());
        r.layers.push_back(finish(a));
        minRecall = std::min(minRecall, r.layers.back().recallMin);
    }
    r.mean = finish(all);
    r.mean.recallMin = minRecall;
    return r;
}

} // namespace

SparseEvalResult evaluateSparse(const Decoder &decoder, const WindowSet &windows, const GateSet *gates,
    const MaskRule &rule, JobContext *job, MaskSource source, std::uint64_t seed)
{
    return evaluateSparseWith(decoder, windows, gates, rule, job, source, seed, 0.0);
}

std::vector<SparseEvalResult> sweepSparsity(const Decoder &decoder, const WindowSet &windows, const GateSet &gates,
    const std::vector<MaskRule> &rules, JobContext *job, const std::function<void(const SparseEvalResult &)> &onPoint)
{
    std::vector<SparseEvalResult> out;
    const double dense = evaluatePerplexity(decoder, windows, UnitMask::dense(decoder.layers()), job, 8).perplexity;
    for (const MaskRule &rule : rules) {
        out.push_back(evaluateSparseWith(decoder, windows, &gates, rule, job, MaskSource::Gates, 0, dense));
        if (onPoint)
            onPoint(out.back());
    }
    return out;
}

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

GateTrainResult runGateTrainJob(const GateTrainJob &r, JobContext &job)
{
    if (const std::string why = r.options.validate(); !why.empty())
        throw UsageError(why);
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
    return trainGates(q, job);
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
        SparseEvalResult e
            = evaluateSparseWith(*o.decoder, set, gates ? &*gates : nullptr, rule, &job, r.source, 0, dense);
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
        s.masks = r.source == MaskSource::Gates ? "gates"
            : r.source == MaskSource::Static    ? "static"
            : r.source == MaskSource::Random    ? "random"
                                                : "oracle";
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
        for (const SparseEvalResult &e : report.points) {
            SweepPoint p;
            p.rule = e.rule.describe();
            p.ruleKind = e.rule.kind == MaskRule::Kind::Density ? "density" : "threshold";
            p.ruleValue = e.rule.value;
            p.lastBlockDense = e.rule.lastBlockDense;
            p.perplexity = e.perplexity;
            p.tileDensity = e.mean.tileDensity;
            p.pairDensity = e.mean.pairDensity;
            p.recallMean = e.mean.recallMean;
            p.recallP5 = e.mean.recallP5;
            p.recallMin = e.mean.recallMin;
            p.emptyRows = e.mean.emptyRows;
            p.tokens = e.tokens;
            p.ppa = e.ppa;
            s.points.push_back(std::move(p));
        }
        report.sweepId = ExperimentFile::addSweep(r.experimentPath, std::move(s));
    }
    return report;
}

} // namespace blockscope::sparse
