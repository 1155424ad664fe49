// The experiment file (README, "Experiment file format"): every trace and sweep field survives a
// round trip, writes are all-or-nothing, damaged or foreign files give FormatErrors; the content hash
// and the run and sweep exports that read it.
#include "common/formaterror.h"
#include "store/contenthash.h"
#include "store/experimentfile.h"
#include "store/traceexport.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace blockscope;

namespace {

constexpr double NaN = TraceStep::NaN;

QByteArray fileBytes(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void writeBytes(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(f.write(bytes), bytes.size());
}

QString str(const std::string &s)
{
    return QString::fromStdString(s);
}

// Doubles compare bit for bit apart from NaN, which must stay NaN.
bool same(double a, double b)
{
    return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b));
}

bool same(const std::vector<double> &a, const std::vector<double> &b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!same(a[i], b[i]))
            return false;
    return true;
}

UnitMask maskOf(int layers, std::initializer_list<int> attn, std::initializer_list<int> mlp)
{
    UnitMask m = UnitMask::dense(layers);
    for (int l : attn)
        m.skipAttn[l] = true;
    for (int l : mlp)
        m.skipMlp[l] = true;
    return m;
}

RunInfo makeInfo(PruneMethod method, int layers, bool withEvaluation)
{
    RunInfo info;
    info.label = "stories260K " + pruneMethodName(method) + " \xe2\x80\x94 tiny-ts"; // a non-ASCII dash
    info.options = PruneOptions::tinyTsDefaults(method);
    info.options.target = 2;
    info.options.protectedBlocks = {0};
    info.layers = layers;
    info.modelPath = "/data/models/stories260K/stories260K.bin";
    info.modelHash = "sha256:" + std::string(64, 'a');
    info.calibrationPath = "text/tinystories_valid_head.txt";
    info.calibrationHash = "sha256:" + std::string(64, 'b');
    info.calibrationProtocol = protocolPreset("tiny-ts");
    info.calibrationProtocol.windows = 16;
    info.calibrationProtocol.tokens = 8192;
    if (withEvaluation) {
        Protocol eval = protocolPreset("tiny-ts");
        eval.windows = 372;
        eval.scoredTokens = 190115;
        info.evaluationProtocol = eval;
    }
    info.densePerplexity = 4.1357;
    info.started = "2025-01-31T12:00:00Z";
    info.blockscopeVersion = "0.1.0";
    return info;
}

// A SLEB phase: candidates over alive positions, the chosen block, the cumulative order.
TraceStep greedyStep(int index, int layers)
{
    TraceStep s;
    s.index = index;
    s.kind = "phase";
    s.chosen = {{UnitKind::Block, 2 + index}};
    s.chosenScore = 1234.5 + index;
    s.nearTie = index == 1;
    s.readmitted = index == 2;
    for (int p = 1; p < layers - 1; ++p)
        s.candidates.push_back({{UnitKind::Block, p}, 1200.0 + 17.25 * p, p});
    s.candidates.back().score = NaN;
    s.mask = UnitMask::dense(layers);
    for (int i = 0; i <= index; ++i) {
        s.mask.skipBlock(2 + i);
        s.removedSoFar.push_back({UnitKind::Block, 2 + i});
    }
    s.evaluations = 5 * (index + 1);
    s.unitForwards = 18 + index;
    s.tokens = std::int64_t(1) << (33 + index); // beyond 32 bits
    s.seconds = 0.125 * (index + 1);
    s.perplexity = index == 0 ? NaN : 4.5 + index;
    s.klToDense = index == 0 ? NaN : 0.01 * index;
    return s;
}

// An EvoPress generation with every evo field set; the parent is empty for the initial record.
TraceStep evoStep(int index, int layers, bool initial)
{
    TraceStep s;
    s.index = index;
    s.kind = initial ? "initial" : "generation";
    s.chosen = {{UnitKind::Attention, 1}, {UnitKind::Attention, 3}, {UnitKind::Mlp, 2}, {UnitKind::Mlp, 4}};
    s.chosenScore = 0.0421;
    s.mask = maskOf(layers, {1, 3}, {2, 4});
    s.evaluations = 64 + 35 * index;
    s.unitForwards = 1000 + index;
    s.tokens = 131072;
    s.seconds = 2.5;
    s.perplexity = 6.25;
    s.klToDense = 0.0421;
    s.rngState = std::string(4000, '7') + " 12345678901234567890 312"; // mt19937_64 states are long
    s.hasEvo = true;
    EvoGeneration &e = s.evo;
    if (!initial)
        e.parent = maskOf(layers, {1, 2}, {2, 4});
    e.parentFitness = initial ? NaN : 0.05;
    e.parentRescored = initial ? NaN : 0.049;
    EvoCandidate a{maskOf(layers, {1, 3}, {2, 4}), {{UnitKind::Attention, 3, 2}}, 0.043, 0.0421};
    EvoCandidate b{maskOf(layers, {0, 2}, {1, 4}),
        {{UnitKind::Attention, 0, 1}, {UnitKind::Mlp, 1, 2}, {UnitKind::Attention, 1, 2}}, 0.07, NaN};
    EvoCandidate c{maskOf(layers, {1, 2}, {2, 4}), {}, 0.06, NaN};
    e.offspring = {a, b, c};
    e.stageSequences = {{5, 9, 11}, {}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}};
    e.stageTokens = {1024, 0, 8192};
    e.winnerIsParent = !initial;
    e.rejectedDraws = 1000;
    e.rejectionCapHit = true;
    e.population = {maskOf(layers, {1, 3}, {2, 4})};
    e.populationFitness = {0.0421};
    return s;
}

// An angular record: BI-style scores and the (L+1)^2 distance matrix.
TraceStep oneShotStep(int layers)
{
    TraceStep s;
    s.index = 0;
    s.kind = "one-shot";
    s.chosen = {{UnitKind::Block, 2}, {UnitKind::Block, 3}};
    s.chosenScore = 0.0123;
    s.mask = maskOf(layers, {2, 3}, {2, 3});
    s.tokens = 32768;
    s.seconds = 0.5;
    for (int l = 0; l < layers; ++l)
        s.blockScores.push_back(l == 1 ? NaN : 0.5 * l);
    for (int i = 0; i <= layers; ++i)
        for (int j = 0; j <= layers; ++j)
            s.distanceMatrix.push_back(j > i ? 0.01 * (j - i) + 0.001 * i : 0.0);
    s.distanceMatrix[1] = -0.0;
    return s;
}

void compareMask(const UnitMask &a, const UnitMask &b)
{
    QVERIFY(a.skipAttn == b.skipAttn);
    QVERIFY(a.skipMlp == b.skipMlp);
}

void compareInfo(const RunInfo &a, const RunInfo &b)
{
    QCOMPARE(str(a.id), str(b.id));
    QCOMPARE(str(a.label), str(b.label));
    QVERIFY(a.options.toJson() == b.options.toJson());
    QCOMPARE(a.layers, b.layers);
    QCOMPARE(str(a.modelPath), str(b.modelPath));
    QCOMPARE(str(a.modelHash), str(b.modelHash));
    QCOMPARE(str(a.calibrationPath), str(b.calibrationPath));
    QCOMPARE(str(a.calibrationHash), str(b.calibrationHash));
    QVERIFY(a.calibrationProtocol.toJson() == b.calibrationProtocol.toJson());
    QCOMPARE(a.evaluationProtocol.has_value(), b.evaluationProtocol.has_value());
    if (a.evaluationProtocol)
        QVERIFY(a.evaluationProtocol->toJson() == b.evaluationProtocol->toJson());
    QVERIFY(same(a.densePerplexity, b.densePerplexity));
    QCOMPARE(str(a.started), str(b.started));
    QCOMPARE(str(a.status), str(b.status));
    QCOMPARE(str(a.blockscopeVersion), str(b.blockscopeVersion));
}

void compareStep(const TraceStep &a, const TraceStep &b)
{
    QCOMPARE(a.index, b.index);
    QCOMPARE(str(a.kind), str(b.kind));
    QVERIFY(a.chosen == b.chosen);
    QVERIFY(same(a.chosenScore, b.chosenScore));
    QCOMPARE(a.nearTie, b.nearTie);
    QCOMPARE(a.readmitted, b.readmitted);
    QCOMPARE(a.candidates.size(), b.candidates.size());
    for (std::size_t i = 0; i < a.candidates.size(); ++i) {
        QVERIFY(a.candidates[i].unit == b.candidates[i].unit);
        QVERIFY(same(a.candidates[i].score, b.candidates[i].score));
        QCOMPARE(a.candidates[i].position, b.candidates[i].position);
    }
    compareMask(a.mask, b.mask);
    QVERIFY(a.removedSoFar == b.removedSoFar);
    QCOMPARE(a.evaluations, b.evaluations);
    QCOMPARE(a.unitForwards, b.unitForwards);
    QCOMPARE(a.tokens, b.tokens);
    QVERIFY(same(a.seconds, b.seconds));
    QVERIFY(same(a.perplexity, b.perplexity));
    QVERIFY(same(a.klToDense, b.klToDense));
    QCOMPARE(str(a.rngState), str(b.rngState));
    QVERIFY(same(a.blockScores, b.blockScores));
    QVERIFY(same(a.distanceMatrix, b.distanceMatrix));
    QCOMPARE(a.hasEvo, b.hasEvo);
    if (!a.hasEvo)
        return;
    const EvoGeneration &x = a.evo, &y = b.evo;
    compareMask(x.parent, y.parent);
    QVERIFY(same(x.parentFitness, y.parentFitness));
    QVERIFY(same(x.parentRescored, y.parentRescored));
    QCOMPARE(x.offspring.size(), y.offspring.size());
    for (std::size_t i = 0; i < x.offspring.size(); ++i) {
        compareMask(x.offspring[i].genome, y.offspring[i].genome);
        QCOMPARE(x.offspring[i].swaps.size(), y.offspring[i].swaps.size());
        for (std::size_t k = 0; k < x.offspring[i].swaps.size(); ++k) {
            QVERIFY(x.offspring[i].swaps[k].kind == y.offspring[i].swaps[k].kind);
            QCOMPARE(x.offspring[i].swaps[k].removed, y.offspring[i].swaps[k].removed);
            QCOMPARE(x.offspring[i].swaps[k].restored, y.offspring[i].swaps[k].restored);
        }
        QVERIFY(same(x.offspring[i].stage1Fitness, y.offspring[i].stage1Fitness));
        QVERIFY(same(x.offspring[i].finalFitness, y.offspring[i].finalFitness));
    }
    QVERIFY(x.stageSequences == y.stageSequences);
    QVERIFY(x.stageTokens == y.stageTokens);
    QCOMPARE(x.winnerIsParent, y.winnerIsParent);
    QCOMPARE(x.rejectedDraws, y.rejectedDraws);
    QCOMPARE(x.rejectionCapHit, y.rejectionCapHit);
    QCOMPARE(x.population.size(), y.population.size());
    for (std::size_t i = 0; i < x.population.size(); ++i)
        compareMask(x.population[i], y.population[i]);
    QVERIFY(same(x.populationFitness, y.populationFitness));
}

// PPA points: one measured on this machine with two roofline predictions, one modelled only.
ppa::Figure measuredFigure(double median, double lo, double hi, int runs, std::string note = {})
{
    return {median, lo, hi, runs, ppa::Provenance::Measured, std::move(note)};
}

ppa::CostModel costsOf(int layers, const UnitMask &mask, bool timed)
{
    ppa::CostModel c;
    c.paramsTotal = std::int64_t(1) << 34; // beyond 32 bits
    c.paramsKept = (std::int64_t(1) << 34) - 123456789;
    c.storedBytesByDtype = {{"F32", 1.5e6}, {"Q8_0", 250000.25}, {"BF16", -0.0}};
    c.storedBytes = 1750000.25;
    c.computeBytes = 7.0e6;
    c.kvBytesPerToken = 4096;
    c.activationPeakBytes = 1.25e5;
    c.prefillFlopsPerToken = 3.3e9;
    c.prefillBytesPerToken = 1234.5;
    c.decodeFlopsPerToken = 3.4e9;
    c.decodeBytesPerToken = 7.1e6;
    c.units.push_back({"embedding", -1, false, 8192, 32768, 0, 0, 32768, ppa::Figure::modelled(NaN),
        ppa::Figure::modelled(2.5e-9, "modelled with toy's energy constants")});
    for (int l = 0; l < layers; ++l) {
        for (int k = 0; k < 2; ++k) {
            ppa::UnitCost u;
            u.unit = (k == 0 ? "attn " : "mlp ") + std::to_string(l);
            u.layer = l;
            u.removed = k == 0 ? bool(mask.skipAttn[l]) : bool(mask.skipMlp[l]);
            u.params = 1000 * (l + 1) + k;
            u.storedBytes = 4.0 * u.params;
            u.prefillFlopsPerToken = u.removed ? 0 : 2.0 * u.params + 0.5;
            u.decodeFlopsPerToken = u.removed ? 0 : 2.0 * u.params + 0.75;
            u.decodeBytesPerToken = u.removed ? 0 : u.storedBytes;
            u.seconds = timed && !u.removed ? measuredFigure(1e-4 * (l + 1), 0.9e-4 * (l + 1), 1.2e-4 * (l + 1), 5)
                                            : ppa::Figure::modelled(NaN, "not measured");
            u.joulesPerToken = timed && !u.removed ? measuredFigure(1e-6 * (l + 1), NaN, NaN, 0)
                                                   : ppa::Figure::modelled(u.removed ? NaN : 3e-7, "modelled");
            c.units.push_back(u);
        }
    }
    c.units.push_back({"lm_head", -1, false, 8192, 32768, 16384, 16384, 32768, ppa::Figure::modelled(0.0),
        ppa::Figure::modelled(4e-7, "modelled")});
    return c;
}

std::vector<ppa::PpaPoint> makePoints(int layers)
{
    ppa::PpaPoint a;
    a.label = "step 1 \xe2\x80\x94 measured";
    a.step = 1;
    a.mask = maskOf(layers, {2, 3}, {2});
    a.attentionDensity = 0.5;
    a.perplexity = 5.75;
    a.klToDense = 0.0125;
    a.protocol = "tiny-ts: 372 windows of 512 tokens, stride 512";
    a.costs = costsOf(layers, a.mask, true);
    ppa::Measurement m;
    m.device = "cpu (Intel Xeon, 2 threads)";
    m.dtype = "bfloat16";
    m.threads = 2;
    m.batch = 4;
    m.seq = 256;
    m.decodeTokens = 16;
    m.prefillTokensPerSecond = measuredFigure(5120.5, 4900, 5300.25, 5);
    m.decodeMsPerToken = measuredFigure(3.25, 3.0, 4.5, 5);
    m.prefillJoulesPerToken = ppa::Figure::modelled(1.5e-3, "no energy counter: modelled");
    m.decodeJoulesPerToken = measuredFigure(2.5e-3, 2.25e-3, 2.75e-3, 3, "RAPL package-0");
    m.peakMemoryBytes = ppa::Figure::modelled(8.5e6);
    m.energySource = "RAPL package-0 (/sys/class/powercap/intel-rapl:0)";
    a.measured = m;
    a.predictions.push_back({"H100 SXM", false, 1.5e6, 0.0125, 1e-5, 2e-5, true, false});
    a.predictions.push_back({"local (calibrated)", true, 5000, 3.5, NaN, 2.5e-3, false, true});

    ppa::PpaPoint b;
    b.label = "dense";
    b.mask = UnitMask::dense(layers);
    b.perplexity = 4.125;
    b.klToDense = 0.0;
    b.protocol = "tiny-ts";
    b.costs = costsOf(layers, b.mask, false);
    b.costs.storedBytesByDtype.clear();
    return {a, b};
}

void compareFigure(const ppa::Figure &a, const ppa::Figure &b)
{
    QVERIFY(same(a.value, b.value));
    QVERIFY(same(a.min, b.min));
    QVERIFY(same(a.max, b.max));
    QCOMPARE(a.runs, b.runs);
    QVERIFY(a.provenance == b.provenance);
    QCOMPARE(str(a.note), str(b.note));
}

void comparePoint(const ppa::PpaPoint &a, const ppa::PpaPoint &b)
{
    QCOMPARE(str(a.label), str(b.label));
    QCOMPARE(a.step, b.step);
    compareMask(a.mask, b.mask);
    QVERIFY(same(a.attentionDensity, b.attentionDensity));
    QVERIFY(same(a.perplexity, b.perplexity));
    QVERIFY(same(a.klToDense, b.klToDense));
    QCOMPARE(str(a.protocol), str(b.protocol));
    const ppa::CostModel &x = a.costs, &y = b.costs;
    QCOMPARE(x.paramsTotal, y.paramsTotal);
    QCOMPARE(x.paramsKept, y.paramsKept);
    QCOMPARE(x.storedBytesByDtype.size(), y.storedBytesByDtype.size());
    for (const auto &[dtype, bytes] : x.storedBytesByDtype) {
        QVERIFY2(y.storedBytesByDtype.count(dtype), dtype.c_str());
        QVERIFY(same(bytes, y.storedBytesByDtype.at(dtype)));
    }
    QVERIFY(same(x.storedBytes, y.storedBytes));
    QVERIFY(same(x.computeBytes, y.computeBytes));
    QVERIFY(same(x.kvBytesPerToken, y.kvBytesPerToken));
    QVERIFY(same(x.activationPeakBytes, y.activationPeakBytes));
    QVERIFY(same(x.prefillFlopsPerToken, y.prefillFlopsPerToken));
    QVERIFY(same(x.prefillBytesPerToken, y.prefillBytesPerToken));
    QVERIFY(same(x.decodeFlopsPerToken, y.decodeFlopsPerToken));
    QVERIFY(same(x.decodeBytesPerToken, y.decodeBytesPerToken));
    QCOMPARE(x.units.size(), y.units.size());
    for (std::size_t i = 0; i < x.units.size(); ++i) {
        const ppa::UnitCost &u = x.units[i], &v = y.units[i];
        QCOMPARE(str(u.unit), str(v.unit));
        QCOMPARE(u.layer, v.layer);
        QCOMPARE(u.removed, v.removed);
        QCOMPARE(u.params, v.params);
        QVERIFY(same(u.storedBytes, v.storedBytes));
        QVERIFY(same(u.prefillFlopsPerToken, v.prefillFlopsPerToken));
        QVERIFY(same(u.decodeFlopsPerToken, v.decodeFlopsPerToken));
        QVERIFY(same(u.decodeBytesPerToken, v.decodeBytesPerToken));
        compareFigure(u.seconds, v.seconds);
        compareFigure(u.joulesPerToken, v.joulesPerToken);
    }
    QCOMPARE(a.measured.has_value(), b.measured.has_value());
    if (a.measured) {
        const ppa::Measurement &m = *a.measured, &n = *b.measured;
        QCOMPARE(str(m.device), str(n.device));
        QCOMPARE(str(m.dtype), str(n.dtype));
        QCOMPARE(m.threads, n.threads);
        QCOMPARE(m.batch, n.batch);
        QCOMPARE(m.seq, n.seq);
        QCOMPARE(m.decodeTokens, n.decodeTokens);
        compareFigure(m.prefillTokensPerSecond, n.prefillTokensPerSecond);
        compareFigure(m.decodeMsPerToken, n.decodeMsPerToken);
        compareFigure(m.prefillJoulesPerToken, n.prefillJoulesPerToken);
        compareFigure(m.decodeJoulesPerToken, n.decodeJoulesPerToken);
        compareFigure(m.peakMemoryBytes, n.peakMemoryBytes);
        QCOMPARE(str(m.energySource), str(n.energySource));
    }
    QCOMPARE(a.predictions.size(), b.predictions.size());
    for (std::size_t i = 0; i < a.predictions.size(); ++i) {
        const ppa::Prediction &p = a.predictions[i], &q = b.predictions[i];
        QCOMPARE(str(p.device), str(q.device));
        QCOMPARE(p.calibrated, q.calibrated);
        QVERIFY(same(p.prefillTokensPerSecond, q.prefillTokensPerSecond));
        QVERIFY(same(p.decodeMsPerToken, q.decodeMsPerToken));
        QVERIFY(same(p.prefillJoulesPerToken, q.prefillJoulesPerToken));
        QVERIFY(same(p.decodeJoulesPerToken, q.decodeJoulesPerToken));
        QCOMPARE(p.prefillComputeBound, q.prefillComputeBound);
        QCOMPARE(p.decodeComputeBound, q.decodeComputeBound);
    }
}

void compareRun(const ExperimentRun &a, const ExperimentRun &b)
{
    compareInfo(a.info, b.info);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(a.steps.size(), b.steps.size());
    for (std::size_t i = 0; i < a.steps.size(); ++i) {
        compareStep(a.steps[i], b.steps[i]);
        if (QTest::currentTestFailed())
            return;
    }
    QCOMPARE(a.ppa.size(), b.ppa.size());
    for (std::size_t i = 0; i < a.ppa.size(); ++i) {
        comparePoint(a.ppa[i], b.ppa[i]);
        if (QTest::currentTestFailed())
            return;
    }
}

// A sparsity sweep of three points: a density point with a measured PPA point and two predictions,
// a threshold point with NaN metrics and no last-block rule, and a point whose PPA point has no mask.
SweepRecord makeSweep(int layers)
{
    SweepRecord s;
    s.label = "gates \xe2\x80\x94 tiny-ts"; // a non-ASCII dash
    s.masks = "gates";
    s.modelPath = "/data/models/stories260K/stories260K.bin";
    s.modelHash = "sha256:" + std::string(64, 'a');
    s.gatesPath = "/data/gates/stories260K.gates";
    s.gatesHash = "sha256:" + std::string(64, 'c');
    s.textPath = "text/tinystories_valid_head.txt";
    s.protocol = "tiny-ts: 372 windows of 512 tokens, stride 512";
    s.blockSize = 64;
    s.densePerplexity = 4.1357;
    s.started = "2025-02-01T08:30:00Z";

    SweepPoint a;
    a.rule = "density 0.5, last 2 rows dense";
    a.ruleKind = "density";
    a.ruleValue = 0.5;
    a.perplexity = 4.75;
    a.tileDensity = 0.625;
    a.pairDensity = 0.5625;
    a.recallMean = 0.96875;
    a.recallP5 = 0.875;
    a.recallMin = 0.5;
    a.emptyRows = 3;
    a.tokens = std::int64_t(1) << 35; // beyond 32 bits
    a.ppa = makePoints(layers)[0];
    a.ppa.label = a.rule;
    a.ppa.step = -1;
    a.ppa.attentionDensity = a.pairDensity;

    SweepPoint b;
    b.rule = "threshold 0.02";
    b.ruleKind = "threshold";
    b.ruleValue = 0.02;
    b.lastBlockDense = false;
    b.perplexity = NaN;
    b.tileDensity = 0.25;
    b.pairDensity = 0.1875;
    b.recallMean = 0.75;
    b.recallP5 = NaN;
    b.recallMin = -0.0;
    b.emptyRows = 0;
    b.tokens = 4096;
    b.ppa = makePoints(layers)[1];
    b.ppa.label = b.rule;
    b.ppa.attentionDensity = b.pairDensity;

    SweepPoint c;
    c.rule = "density 1";
    c.ruleKind = "density";
    c.ruleValue = 1.0;
    c.perplexity = 4.1357;
    c.tileDensity = 1.0;
    c.pairDensity = 1.0;
    c.recallMean = c.recallP5 = c.recallMin = 1.0;
    c.tokens = 4096;
    c.ppa.label = c.rule;
    c.ppa.costs = costsOf(layers, UnitMask::dense(layers), false);
    c.ppa.predictions.push_back({"H200", false, 2.5e6, 0.01, 1e-5, 2e-5, true, false});

    s.points = {a, b, c};
    return s;
}

void compareSweep(const SweepRecord &a, const SweepRecord &b)
{
    QCOMPARE(str(a.id), str(b.id));
    QCOMPARE(str(a.label), str(b.label));
    QCOMPARE(str(a.masks), str(b.masks));
    QCOMPARE(str(a.modelPath), str(b.modelPath));
    QCOMPARE(str(a.modelHash), str(b.modelHash));
    QCOMPARE(str(a.gatesPath), str(b.gatesPath));
    QCOMPARE(str(a.gatesHash), str(b.gatesHash));
    QCOMPARE(str(a.textPath), str(b.textPath));
    QCOMPARE(str(a.protocol), str(b.protocol));
    QCOMPARE(a.blockSize, b.blockSize);
    QVERIFY(same(a.densePerplexity, b.densePerplexity));
    QCOMPARE(str(a.started), str(b.started));
    QCOMPARE(a.points.size(), b.points.size());
    for (std::size_t i = 0; i < a.points.size(); ++i) {
        const SweepPoint &p = a.points[i], &q = b.points[i];
        QCOMPARE(str(p.rule), str(q.rule));
        QCOMPARE(str(p.ruleKind), str(q.ruleKind));
        QVERIFY(same(p.ruleValue, q.ruleValue));
        QCOMPARE(p.lastBlockDense, q.lastBlockDense);
        QVERIFY(same(p.perplexity, q.perplexity));
        QVERIFY(same(p.tileDensity, q.tileDensity));
        QVERIFY(same(p.pairDensity, q.pairDensity));
        QVERIFY(same(p.recallMean, q.recallMean));
        QVERIFY(same(p.recallP5, q.recallP5));
        QVERIFY(same(p.recallMin, q.recallMin));
        QCOMPARE(p.emptyRows, q.emptyRows);
        QCOMPARE(p.tokens, q.tokens);
        comparePoint(p.ppa, q.ppa);
        if (QTest::currentTestFailed())
            return;
    }
}

// Replaces every occurrence of `from` by `to` (same length) in a file's bytes; returns the count.
int patchBytes(const QString &path, const QByteArray &from, const QByteArray &to)
{
    QByteArray bytes = fileBytes(path);
    int count = 0;
    for (qsizetype at = bytes.indexOf(from); at >= 0; at = bytes.indexOf(from, at + to.size())) {
        bytes.replace(at, to.size(), to);
        ++count;
    }
    writeBytes(path, bytes);
    return count;
}

QStringList entries(const QString &dir)
{
    return QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot);
}

} // namespace

class TestExperimentFile : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    int m_count = 0;

    // A fresh file path in a folder of its own, so temp-file leftovers are visible.
    QString freshPath()
    {
        const QString folder = m_dir.filePath(QString::number(++m_count));
        QDir().mkpath(folder);
        return folder + "/experiment.h5";
    }

private Q_SLOTS:
    void greedyRoundTrip()
    {
        const QString path = freshPath();
        ExperimentRun run{makeInfo(PruneMethod::Sleb, 6, true), {}};
        run.info.id = ExperimentFile::addRun(path.toStdString(), run.info);
        QCOMPARE(str(run.info.id), QStringLiteral("run-0001"));
        for (int i = 0; i < 3; ++i) {
            run.steps.push_back(greedyStep(i, 6));
            ExperimentFile::appendStep(path.toStdString(), run.info.id, run.steps.back());
        }
        const Experiment e = ExperimentFile::read(path.toStdString());
        QCOMPARE(e.formatVersion, ExperimentFile::FormatVersion);
        QCOMPARE(e.runs.size(), std::size_t(1));
        compareRun(e.runs[0], run);
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
    }

    void evoRoundTrip()
    {
        const QString path = freshPath();
        ExperimentRun run{makeInfo(PruneMethod::EvoPress, 5, true), {}};
        run.info.options.dropEntireBlock = true;
        run.info.id = ExperimentFile::addRun(path.toStdString(), run.info);
        run.steps = {evoStep(0, 5, true), evoStep(1, 5, false)};
        // Appended out of order: read() sorts by index.
        ExperimentFile::appendStep(path.toStdString(), run.info.id, run.steps[1]);
        ExperimentFile::appendStep(path.toStdString(), run.info.id, run.steps[0]);
        const Experiment e = ExperimentFile::read(path.toStdString());
        QCOMPARE(e.runs.size(), std::size_t(1));
        compareRun(e.runs[0], run);
    }

    void oneShotRoundTrip()
    {
        const QString path = freshPath();
        ExperimentRun run{makeInfo(PruneMethod::Angular, 5, false), {}};
        run.info.densePerplexity = NaN;
        run.info.label.clear();
        run.info.id = ExperimentFile::addRun(path.toStdString(), run.info);
        run.steps = {oneShotStep(5)};
        ExperimentFile::appendStep(path.toStdString(), run.info.id, run.steps[0]);
        const Experiment e = ExperimentFile::read(path.toStdString());
        QVERIFY(!e.runs[0].info.evaluationProtocol);
        compareRun(e.runs[0], run);
    }

    void emptyStep()
    {
        // A step with every list empty still reads back (zero-length datasets).
        const QString path = freshPath();
        ExperimentRun run{makeInfo(PruneMethod::FinerCut, 3, true), {}};
        run.info.id = ExperimentFile::addRun(path.toStdString(), run.info);
        TraceStep s;
        s.kind = "step";
        s.mask = UnitMask::dense(3);
        run.steps = {s};
        ExperimentFile::appendStep(path.toStdString(), run.info.id, s);
        compareRun(ExperimentFile::read(path.toStdString()).runs.at(0), run);
    }

    void runsKeptAcrossWrites()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        ExperimentRun a{makeInfo(PruneMethod::Sleb, 6, true), {}}, b{makeInfo(PruneMethod::EvoPress, 5, false), {}};
        a.info.id = ExperimentFile::addRun(p, a.info);
        b.info.id = ExperimentFile::addRun(p, b.info);
        QCOMPARE(str(b.info.id), QStringLiteral("run-0002"));
        for (int i = 0; i < 2; ++i) {
            a.steps.push_back(greedyStep(i, 6));
            ExperimentFile::appendStep(p, a.info.id, a.steps.back());
            b.steps.push_back(evoStep(i, 5, i == 0));
            ExperimentFile::appendStep(p, b.info.id, b.steps.back());
        }
        ExperimentFile::setStatus(p, a.info.id, "complete");
        a.info.status = "complete";
        ExperimentFile::setStatus(p, b.info.id, "cancelled");
        b.info.status = "cancelled";
        ExperimentFile::setDensePerplexity(p, b.info.id, 7.75);
        b.info.densePerplexity = 7.75;
        ExperimentFile::setDensePerplexity(p, a.info.id, NaN);
        a.info.densePerplexity = NaN;
        ExperimentRun c{makeInfo(PruneMethod::ShortGpt, 4, true), {}};
        c.info.id = ExperimentFile::addRun(p, c.info);
        QCOMPARE(str(c.info.id), QStringLiteral("run-0003"));

        const Experiment e = ExperimentFile::read(p);
        QCOMPARE(e.runs.size(), std::size_t(3));
        compareRun(e.runs[0], a);
        compareRun(e.runs[1], b);
        compareRun(e.runs[2], c);
        QVERIFY(e.find("run-0002") == &e.runs[1]);
        QVERIFY(!e.find("run-0004"));
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
        // A file with every kind of step, for HDFView or h5py: BLOCKSCOPE_KEEP_EXPERIMENT=/tmp/x.h5.
        const QString keep = qEnvironmentVariable("BLOCKSCOPE_KEEP_EXPERIMENT");
        if (!keep.isEmpty()) {
            const ExperimentRun d{makeInfo(PruneMethod::Angular, 5, false), {oneShotStep(5)}};
            ExperimentFile::appendStep(p, ExperimentFile::addRun(p, d.info), d.steps[0]);
            QFile::remove(keep);
            QVERIFY(QFile::copy(path, keep));
        }
    }

    void ppaRoundTrip()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        ExperimentRun a{makeInfo(PruneMethod::Sleb, 6, true), {}}, b{makeInfo(PruneMethod::EvoPress, 5, false), {}};
        a.info.id = ExperimentFile::addRun(p, a.info);
        b.info.id = ExperimentFile::addRun(p, b.info);
        for (int i = 0; i < 2; ++i) {
            a.steps.push_back(greedyStep(i, 6));
            ExperimentFile::appendStep(p, a.info.id, a.steps.back());
            b.steps.push_back(evoStep(i, 5, i == 0));
            ExperimentFile::appendStep(p, b.info.id, b.steps.back());
        }
        // Before any PPA is stored, runs read back with none.
        QVERIFY(ExperimentFile::read(p).runs.at(0).ppa.empty());

        a.ppa = makePoints(6);
        QVERIFY(a.ppa[0].measured && !a.ppa[1].measured);
        QCOMPARE(a.ppa[0].predictions.size(), std::size_t(2));
        ExperimentFile::setPpa(p, a.info.id, a.ppa);
        // Writes after the PPA keep it.
        a.steps.push_back(greedyStep(2, 6));
        ExperimentFile::appendStep(p, a.info.id, a.steps.back());
        ExperimentFile::setStatus(p, a.info.id, "complete");
        a.info.status = "complete";

        const Experiment e = ExperimentFile::read(p);
        QCOMPARE(e.formatVersion, 1);
        QCOMPARE(e.runs.size(), std::size_t(2));
        compareRun(e.runs[0], a);
        compareRun(e.runs[1], b);
        QVERIFY(e.runs[1].ppa.empty());
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
        const QString keep = qEnvironmentVariable("BLOCKSCOPE_KEEP_PPA_EXPERIMENT");
        if (!keep.isEmpty()) {
            QFile::remove(keep);
            QVERIFY(QFile::copy(path, keep));
        }
    }

    void ppaReplaced()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        ExperimentRun a{makeInfo(PruneMethod::Sleb, 6, true), {}}, b{makeInfo(PruneMethod::Sleb, 6, false), {}};
        a.info.id = ExperimentFile::addRun(p, a.info);
        b.info.id = ExperimentFile::addRun(p, b.info);
        a.steps = {greedyStep(0, 6)};
        b.steps = {greedyStep(0, 6), greedyStep(1, 6)};
        ExperimentFile::appendStep(p, a.info.id, a.steps[0]);
        for (const auto &s : b.steps)
            ExperimentFile::appendStep(p, b.info.id, s);
        b.ppa = makePoints(6);
        ExperimentFile::setPpa(p, b.info.id, b.ppa);

        // The second call replaces the first: one point, the measured one changed.
        a.ppa = makePoints(6);
        ExperimentFile::setPpa(p, a.info.id, a.ppa);
        a.ppa = {a.ppa[0]};
        a.ppa[0].label = "step 0";
        a.ppa[0].step = 0;
        a.ppa[0].predictions.pop_back();
        a.ppa[0].measured->decodeMsPerToken = measuredFigure(2.0, 1.5, 2.5, 7, "after a rerun");
        ExperimentFile::setPpa(p, a.info.id, a.ppa);
        Experiment e = ExperimentFile::read(p);
        QCOMPARE(e.runs.size(), std::size_t(2));
        QCOMPARE(e.runs[0].ppa.size(), std::size_t(1));
        compareRun(e.runs[0], a);
        compareRun(e.runs[1], b);

        // An empty list leaves the run with none; the other run keeps its points.
        ExperimentFile::setPpa(p, a.info.id, {});
        a.ppa.clear();
        e = ExperimentFile::read(p);
        compareRun(e.runs[0], a);
        compareRun(e.runs[1], b);
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
    }

    void ppaWritesRefused_data()
    {
        QTest::addColumn<QString>("change");
        QTest::newRow("unknown run") << "unknown run";
        QTest::newRow("mask shorter than layers") << "short mask";
        QTest::newRow("unit beyond the layers") << "unit layer";
    }

    void ppaWritesRefused()
    {
        QFETCH(QString, change);
        const QString path = freshPath();
        const std::string p = path.toStdString();
        const std::string id = ExperimentFile::addRun(p, makeInfo(PruneMethod::Sleb, 6, true));
        ExperimentFile::appendStep(p, id, greedyStep(0, 6));
        const auto before = makePoints(6);
        ExperimentFile::setPpa(p, id, before);
        const QByteArray bytes = fileBytes(path);

        auto points = makePoints(6);
        std::string runId = id;
        if (change == "unknown run")
            runId = "run-0002";
        else if (change == "short mask")
            points[1].mask = UnitMask::dense(5);
        else if (change == "unit layer")
            points[0].costs.units[3].layer = 6;
        QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::setPpa(p, runId, points));
        QCOMPARE(fileBytes(path), bytes);
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
        const Experiment e = ExperimentFile::read(p);
        QCOMPARE(e.runs.at(0).ppa.size(), before.size());
        comparePoint(e.runs[0].ppa[0], before[0]);
    }

    // Damage inside the PPA group, made by editing bytes as damagedObjects does.
    void ppaDamaged_data()
    {
        QTest::addColumn<QByteArrayList>("swap");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("says");
        // The names of two attributes of different types exchanged: @dtype is now an integer.
        QTest::newRow("attribute of the wrong type")
            << QByteArrayList{QByteArray("dtype\0", 6), QByteArray("batch\0", 6)}
            << "/runs/run-0001/ppa/point-000/measured@dtype"
            << "must be a string";
        // @decode_tokens (int32) and @energy_source (string) exchanged.
        QTest::newRow("integer attribute holding a string")
            << QByteArrayList{QByteArray("decode_tokens\0", 14), QByteArray("energy_source\0", 14)}
            << "/runs/run-0001/ppa/point-000/measured@decode_tokens"
            << "has string values, expected integer";
        // A provenance that is neither "measured" nor "modelled".
        QTest::newRow("unknown provenance")
            << QByteArrayList{QByteArray("modelled"), QByteArray("modelles")} << "/runs/run-0001/ppa/point-000/"
            << "provenance \"modelles\"";
    }

    void ppaDamaged()
    {
        QFETCH(QByteArrayList, swap);
        QFETCH(QString, field);
        QFETCH(QString, says);
        const QString path = freshPath();
        const std::string p = path.toStdString();
        const std::string id = ExperimentFile::addRun(p, makeInfo(PruneMethod::Sleb, 6, true));
        ExperimentFile::appendStep(p, id, greedyStep(0, 6));
        ExperimentFile::setPpa(p, id, makePoints(6));
        const QByteArray placeholder(swap[0].size(), '\x01');
        const QByteArray first = swap[0], second = swap[1];
        const int count = patchBytes(path, first, placeholder);
        QVERIFY(count > 0);
        if (first.contains('\0')) {
            // A true exchange: every attribute of the one name takes the other's.
            QCOMPARE(patchBytes(path, second, first), count);
            QCOMPARE(patchBytes(path, placeholder, second), count);
        } else {
            QCOMPARE(patchBytes(path, placeholder, second), count);
        }
        try {
            ExperimentFile::read(p);
            QFAIL("no exception");
        } catch (const FormatError &e) {
            QVERIFY2(str(e.field()).startsWith(field), e.what());
            QVERIFY2(str(e.message()).contains(says), e.what());
            QCOMPARE(str(e.file()), path);
        }
    }

    void ppaExport()
    {
        ExperimentRun run{makeInfo(PruneMethod::Sleb, 6, true), {greedyStep(0, 6)}};
        QVERIFY(runToJson(run).at("ppa").empty());
        run.ppa = makePoints(6);
        const nlohmann::json j = runToJson(run).at("ppa");
        QCOMPARE(j.size(), std::size_t(2));
        QCOMPARE(str(j[0].at("label").get<std::string>()), str(run.ppa[0].label));
        QCOMPARE(j[0].at("costs").at("params_total").get<std::int64_t>(), std::int64_t(1) << 34);
        QCOMPARE(j[0].at("costs").at("stored_bytes_by_dtype").at("Q8_0").get<double>(), 250000.25);
        QCOMPARE(j[0].at("costs").at("units").size(), std::size_t(14));
        const nlohmann::json &m = j[0].at("measured");
        QCOMPARE(
            str(m.at("prefill_tokens_per_second").at("provenance").get<std::string>()), QStringLiteral("measured"));
        QCOMPARE(m.at("prefill_tokens_per_second").at("value").get<double>(), 5120.5);
        QCOMPARE(str(m.at("prefill_joules_per_token").at("provenance").get<std::string>()), QStringLiteral("modelled"));
        QCOMPARE(j[0].at("predictions").size(), std::size_t(2));
        QVERIFY(j[0].at("predictions")[1].at("prefill_joules_per_token").is_null()); // NaN
        QCOMPARE(j[0].at("predictions")[0].at("prefill_compute_bound").get<bool>(), true);
        QVERIFY(j[1].at("measured").is_null());
        // Strict JSON: no NaN literal ("provenance" holds the letters, hence the word boundaries).
        QVERIFY(!QString::fromStdString(j.dump()).contains(
            QRegularExpression("\\bnan\\b", QRegularExpression::CaseInsensitiveOption)));
    }

    void sweepRoundTrip()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        SweepRecord sweep = makeSweep(6);
        QVERIFY(sweep.points[0].ppa.measured && sweep.points[0].ppa.predictions.size() == 2);
        sweep.id = "ignored";
        const std::string id = ExperimentFile::addSweep(p, sweep);
        QCOMPARE(str(id), QStringLiteral("sweep-0001"));
        sweep.id = id;
        const Experiment e = ExperimentFile::read(p);
        QCOMPARE(e.formatVersion, ExperimentFile::FormatVersion);
        QVERIFY(e.runs.empty());
        QCOMPARE(e.sweeps.size(), std::size_t(1));
        compareSweep(e.sweeps[0], sweep);
        QVERIFY(e.findSweep("sweep-0001") == &e.sweeps[0]);
        QVERIFY(!e.findSweep("sweep-0002"));
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
        // A file with a sweep and a run, for h5py: BLOCKSCOPE_KEEP_SWEEP_EXPERIMENT=/tmp/x.h5.
        const QString keep = qEnvironmentVariable("BLOCKSCOPE_KEEP_SWEEP_EXPERIMENT");
        if (!keep.isEmpty()) {
            const std::string run = ExperimentFile::addRun(p, makeInfo(PruneMethod::Sleb, 6, true));
            ExperimentFile::appendStep(p, run, greedyStep(0, 6));
            ExperimentFile::setPpa(p, run, makePoints(6));
            QFile::remove(keep);
            QVERIFY(QFile::copy(path, keep));
        }
    }

    void sweepOnlyFile()
    {
        // addSweep creates the file; with no runs (and even a sweep of no points) it reads.
        const QString path = freshPath();
        const std::string p = path.toStdString();
        SweepRecord empty;
        empty.label = "nothing swept";
        empty.densePerplexity = NaN;
        empty.id = ExperimentFile::addSweep(p, empty);
        const Experiment e = ExperimentFile::read(p);
        QCOMPARE(e.formatVersion, 1);
        QVERIFY(e.runs.empty());
        QCOMPARE(e.sweeps.size(), std::size_t(1));
        compareSweep(e.sweeps[0], empty);
        // A run added afterwards is run-0001 and leaves the sweep.
        const std::string run = ExperimentFile::addRun(p, makeInfo(PruneMethod::Sleb, 6, true));
        QCOMPARE(str(run), QStringLiteral("run-0001"));
        const Experiment f = ExperimentFile::read(p);
        QCOMPARE(f.runs.size(), std::size_t(1));
        compareSweep(f.sweeps.at(0), empty);
    }

    void twoSweepsTwoIds()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        SweepRecord a = makeSweep(6), b = makeSweep(6);
        b.label = "oracle";
        b.masks = "oracle";
        b.gatesPath.clear();
        b.gatesHash.clear();
        b.points.pop_back();
        a.id = ExperimentFile::addSweep(p, a);
        b.id = ExperimentFile::addSweep(p, b);
        QCOMPARE(str(a.id), QStringLiteral("sweep-0001"));
        QCOMPARE(str(b.id), QStringLiteral("sweep-0002"));
        const Experiment e = ExperimentFile::read(p);
        QCOMPARE(e.sweeps.size(), std::size_t(2));
        compareSweep(e.sweeps[0], a);
        compareSweep(e.sweeps[1], b);
    }

    void sweepsAndRunsCoexist()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        ExperimentRun a{makeInfo(PruneMethod::Sleb, 6, true), {}}, b{makeInfo(PruneMethod::EvoPress, 5, false), {}};
        a.info.id = ExperimentFile::addRun(p, a.info);
        b.info.id = ExperimentFile::addRun(p, b.info);
        for (int i = 0; i < 2; ++i) {
            a.steps.push_back(greedyStep(i, 6));
            ExperimentFile::appendStep(p, a.info.id, a.steps.back());
            b.steps.push_back(evoStep(i, 5, i == 0));
            ExperimentFile::appendStep(p, b.info.id, b.steps.back());
        }
        a.ppa = makePoints(6);
        ExperimentFile::setPpa(p, a.info.id, a.ppa);
        const Experiment before = ExperimentFile::read(p);
        QVERIFY(before.sweeps.empty());

        SweepRecord sweep = makeSweep(4); // a model of another size than the runs'
        sweep.id = ExperimentFile::addSweep(p, sweep);
        const Experiment after = ExperimentFile::read(p);
        QCOMPARE(after.runs.size(), before.runs.size());
        for (std::size_t r = 0; r < before.runs.size(); ++r) {
            compareRun(after.runs[r], before.runs[r]);
            QCOMPARE(runToJson(after.runs[r]).dump(), runToJson(before.runs[r]).dump());
        }
        compareRun(after.runs[0], a);
        compareRun(after.runs[1], b);
        QCOMPARE(after.sweeps.size(), std::size_t(1));
        compareSweep(after.sweeps[0], sweep);

        // Run writes after the sweep keep it.
        a.steps.push_back(greedyStep(2, 6));
        ExperimentFile::appendStep(p, a.info.id, a.steps.back());
        ExperimentFile::setStatus(p, a.info.id, "complete");
        a.info.status = "complete";
        ExperimentFile::setPpa(p, b.info.id, makePoints(5));
        b.ppa = makePoints(5);
        ExperimentRun c{makeInfo(PruneMethod::ShortGpt, 4, true), {}};
        c.info.id = ExperimentFile::addRun(p, c.info);
        QCOMPARE(str(c.info.id), QStringLiteral("run-0003"));
        const Experiment e = ExperimentFile::read(p);
        QCOMPARE(e.runs.size(), std::size_t(3));
        compareRun(e.runs[0], a);
        compareRun(e.runs[1], b);
        compareRun(e.runs[2], c);
        QCOMPARE(e.sweeps.size(), std::size_t(1));
        compareSweep(e.sweeps[0], sweep);
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
    }

    void sweepWritesRefused_data()
    {
        QTest::addColumn<QString>("change");
        QTest::newRow("unknown rule kind") << "rule kind";
        QTest::newRow("negative block size") << "block size";
        QTest::newRow("masks of different lengths") << "mask";
        QTest::newRow("unit beyond the masks") << "unit layer";
    }

    void sweepWritesRefused()
    {
        QFETCH(QString, change);
        const QString path = freshPath();
        const std::string p = path.toStdString();
        SweepRecord bad = makeSweep(6);
        if (change == "rule kind")
            bad.points[1].ruleKind = "topk";
        else if (change == "block size")
            bad.blockSize = -1;
        else if (change == "mask")
            bad.points[1].ppa.mask = UnitMask::dense(5);
        else if (change == "unit layer")
            bad.points[2].ppa.costs.units[3].layer = 6;
        // Nothing is created for a new file, and an existing one is left as it was.
        QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::addSweep(p, bad));
        QVERIFY(!QFileInfo::exists(path));
        const std::string first = ExperimentFile::addSweep(p, makeSweep(6));
        const QByteArray bytes = fileBytes(path);
        QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::addSweep(p, bad));
        QCOMPARE(fileBytes(path), bytes);
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
        QCOMPARE(ExperimentFile::read(p).sweeps.size(), std::size_t(1));
        QVERIFY_THROWS_EXCEPTION(
            UsageError, ExperimentFile::addSweep(m_dir.filePath("no/such/folder/x.h5").toStdString(), makeSweep(6)));
        QCOMPARE(str(first), QStringLiteral("sweep-0001"));
    }

    // Damage inside /sweeps, made by editing bytes as damagedObjects does.
    void sweepDamaged_data()
    {
        QTest::addColumn<QByteArrayList>("swap");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("says");
        // @block_size (int32) and @model_hash (string) exchanged: the string is read first.
        QTest::newRow("string attribute holding an integer")
            << QByteArrayList{QByteArray("block_size\0", 11), QByteArray("model_hash\0", 11)}
            << "/sweeps/sweep-0001@model_hash"
            << "must be a string";
        QTest::newRow("attribute missing")
            << QByteArrayList{QByteArray("dense_perplexity"), QByteArray("dense_perplexitz")}
            << "/sweeps/sweep-0001@dense_perplexity"
            << "missing attribute";
        QTest::newRow("column missing") << QByteArrayList{QByteArray("recall_p5"), QByteArray("recall_p6")}
                                        << "/sweeps/sweep-0001/recall_p5"
                                        << "missing dataset";
        QTest::newRow("unknown rule kind")
            << QByteArrayList{QByteArray("threshold"), QByteArray("thresholx")} << "/sweeps/sweep-0001/rule_kind"
            << "\"thresholx\" is neither";
        QTest::newRow("not a sweep id") << QByteArrayList{QByteArray("sweep-0001"), QByteArray("sweep-00x1")}
                                        << "/sweeps/sweep-00x1"
                                        << "is not a sweep";
    }

    void sweepDamaged()
    {
        QFETCH(QByteArrayList, swap);
        QFETCH(QString, field);
        QFETCH(QString, says);
        const QString path = freshPath();
        const std::string p = path.toStdString();
        ExperimentFile::addSweep(p, makeSweep(6));
        const QByteArray placeholder(swap[0].size(), '\x01');
        const QByteArray first = swap[0], second = swap[1];
        const int count = patchBytes(path, first, placeholder);
        QVERIFY(count > 0);
        if (first.contains('\0')) {
            // A true exchange: every attribute of the one name takes the other's.
            QVERIFY(patchBytes(path, second, first) > 0);
            QCOMPARE(patchBytes(path, placeholder, second), count);
        } else {
            QCOMPARE(patchBytes(path, placeholder, second), count);
        }
        try {
            ExperimentFile::read(p);
            QFAIL("no exception");
        } catch (const FormatError &e) {
            QVERIFY2(str(e.field()).startsWith(field), e.what());
            QVERIFY2(str(e.message()).contains(says), e.what());
            QCOMPARE(str(e.file()), path);
        }
    }

    void sweepExport()
    {
        SweepRecord sweep = makeSweep(6);
        sweep.id = "sweep-0003";
        const nlohmann::json j = sweepToJson(sweep);
        QCOMPARE(str(j.at("id").get<std::string>()), QStringLiteral("sweep-0003"));
        QCOMPARE(str(j.at("masks").get<std::string>()), QStringLiteral("gates"));
        QCOMPARE(j.at("block_size").get<int>(), 64);
        QCOMPARE(j.at("dense_perplexity").get<double>(), 4.1357);
        const nlohmann::json &points = j.at("points");
        QCOMPARE(points.size(), std::size_t(3));
        QCOMPARE(str(points[0].at("rule").get<std::string>()), QStringLiteral("density 0.5, last 2 rows dense"));
        QCOMPARE(str(points[0].at("rule_kind").get<std::string>()), QStringLiteral("density"));
        QCOMPARE(points[0].at("sparsity").get<double>(), 0.375);
        QCOMPARE(points[0].at("tokens").get<std::int64_t>(), std::int64_t(1) << 35);
        QCOMPARE(points[0].at("last_block_dense").get<bool>(), true);
        QCOMPARE(points[1].at("last_block_dense").get<bool>(), false);
        QVERIFY(points[1].at("perplexity").is_null()); // NaN
        QVERIFY(points[1].at("recall_p5").is_null());
        const nlohmann::json &ppa = points[0].at("ppa");
        QCOMPARE(ppa.at("attention_density").get<double>(), 0.5625);
        QCOMPARE(str(ppa.at("measured").at("prefill_tokens_per_second").at("provenance").get<std::string>()),
            QStringLiteral("measured"));
        QCOMPARE(ppa.at("predictions").size(), std::size_t(2));
        QVERIFY(points[1].at("ppa").at("measured").is_null());
        QVERIFY(!QString::fromStdString(j.dump()).contains(
            QRegularExpression("\\bnan\\b", QRegularExpression::CaseInsensitiveOption)));

        const QStringList lines = str(sweepToCsv(sweep)).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 4);
        QCOMPARE(lines[0],
            QStringLiteral("rule,kind,value,perplexity,tile_density,sparsity,pair_density,recall_mean,recall_p5,"
                           "recall_min,empty_rows,tokens,params_kept,prefill_flops_per_token,decode_bytes_per_token,"
                           "predicted_device,predicted_prefill_tokens_per_second"));
        QCOMPARE(lines[1],
            QStringLiteral("\"density 0.5, last 2 rows dense\",density,0.5,4.75,0.625,0.375,0.5625,0.96875,0.875,0.5,3,"
                           "34359738368,17056412395,3.3e+09,7100000,H100 SXM,1500000"));
        // NaN is an empty field; a point without predictions leaves the last two empty.
        QCOMPARE(lines[2],
            QStringLiteral(
                "threshold 0.02,threshold,0.02,,0.25,0.75,0.1875,0.75,,-0,0,4096,17056412395,3.3e+09,7100000,,"));
        QVERIFY2(lines[3].startsWith("density 1,density,1,4.1357,1,0,1,1,1,1,0,4096,"), qPrintable(lines[3]));
        QVERIFY2(lines[3].endsWith(",H200,2500000"), qPrintable(lines[3]));
    }

    void newerFormatRefused()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        const std::string id = ExperimentFile::addRun(p, makeInfo(PruneMethod::Sleb, 6, true));
        ExperimentFile::setFormatVersionForTesting(p, ExperimentFile::FormatVersion + 1);
        const QByteArray before = fileBytes(path);
        try {
            ExperimentFile::read(p);
            QFAIL("no exception");
        } catch (const FormatError &e) {
            const QString message = QString::fromUtf8(e.what());
            QVERIFY2(message.contains("newer"), e.what());
            QVERIFY2(message.contains("format 2, this build reads up to 1"), e.what());
            QCOMPARE(str(e.field()), QStringLiteral("/@format_version"));
        }
        QVERIFY_THROWS_EXCEPTION(FormatError, ExperimentFile::appendStep(p, id, greedyStep(0, 6)));
        QCOMPARE(fileBytes(path), before);
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
    }

    void unreadableFiles_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::newRow("first half of a valid file") << "half";
        QTest::newRow("first 100 bytes") << "head";
        QTest::newRow("empty file") << "empty";
        QTest::newRow("garbage") << "garbage";
        QTest::newRow("HDF5 signature then garbage") << "signature";
    }

    void unreadableFiles()
    {
        QFETCH(QString, kind);
        const QString valid = freshPath();
        const std::string id = ExperimentFile::addRun(valid.toStdString(), makeInfo(PruneMethod::Sleb, 6, true));
        for (int i = 0; i < 3; ++i)
            ExperimentFile::appendStep(valid.toStdString(), id, greedyStep(i, 6));
        const QByteArray bytes = fileBytes(valid);
        QByteArray damaged;
        if (kind == "half")
            damaged = bytes.left(bytes.size() / 2);
        else if (kind == "head")
            damaged = bytes.left(100);
        else if (kind == "garbage")
            for (int i = 0; i < 5000; ++i)
                damaged.append(char((i * 7919) % 251));
        else if (kind == "signature")
            damaged = QByteArray("\x89HDF\r\n\x1a\n", 8) + QByteArray(4000, '\x5a');
        const QString path = QFileInfo(valid).path() + "/damaged.h5";
        writeBytes(path, damaged);
        QVERIFY_THROWS_EXCEPTION(FormatError, ExperimentFile::read(path.toStdString()));
        // Writing to it is refused the same way and leaves it as it was.
        QVERIFY_THROWS_EXCEPTION(FormatError, ExperimentFile::appendStep(path.toStdString(), id, greedyStep(3, 6)));
        QCOMPARE(fileBytes(path), damaged);
        QCOMPARE(entries(QFileInfo(path).path()), (QStringList{"damaged.h5", "experiment.h5"}));
    }

    // Damage to single objects, made by editing bytes HDF5 stores without checksums (the file is
    // written in the earliest on-disk format, for the widest compatibility).
    void damagedObjects_data()
    {
        QTest::addColumn<QByteArray>("from");
        QTest::addColumn<QByteArray>("to");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("says");
        QTest::newRow("format attribute missing") << QByteArray("format\0", 7) << QByteArray("formax\0", 7) << "/"
                                                  << "not a Blockscope experiment file";
        QTest::newRow("format attribute wrong")
            << QByteArray("blockscope-experiment") << QByteArray("blockscope-experimenX") << "/@format"
            << "not a Blockscope experiment file";
        QTest::newRow("dataset missing") << QByteArray("skip_attn\0", 10) << QByteArray("skip_attm\0", 10)
                                         << "/runs/run-0001/steps/000000/skip_attn"
                                         << "missing dataset";
        QTest::newRow("attribute missing") << QByteArray("kl_to_dense\0", 12) << QByteArray("kl_to_densf\0", 12)
                                           << "/runs/run-0001/steps/000000@kl_to_dense"
                                           << "missing attribute";
        // A version-1 dataspace message (rank 1, maximum given) of 7 elements, shrunk to 6: only
        // the masks have 7 elements here.
        QTest::newRow("mask shorter than layers") << QByteArray("\x01\x01\x01\0\0\0\0\0"
                                                                "\x07\0\0\0\0\0\0\0"
                                                                "\x07\0\0\0\0\0\0\0",
            24)
                                                  << QByteArray("\x01\x01\x01\0\0\0\0\0"
                                                                "\x06\0\0\0\0\0\0\0"
                                                                "\x06\0\0\0\0\0\0\0",
                                                         24)
                                                  << "/runs/run-0001/steps/000000/skip_"
                                                  << "expected 7";
    }

    void damagedObjects()
    {
        QFETCH(QByteArray, from);
        QFETCH(QByteArray, to);
        QFETCH(QString, field);
        QFETCH(QString, says);
        const QString path = freshPath();
        const std::string id = ExperimentFile::addRun(path.toStdString(), makeInfo(PruneMethod::Sleb, 7, true));
        TraceStep s = greedyStep(0, 7);
        s.candidates.resize(3);
        ExperimentFile::appendStep(path.toStdString(), id, s);
        QVERIFY(patchBytes(path, from, to) > 0);
        try {
            ExperimentFile::read(path.toStdString());
            QFAIL("no exception");
        } catch (const FormatError &e) {
            QVERIFY2(str(e.field()).startsWith(field), e.what());
            QVERIFY2(str(e.message()).contains(says), e.what());
            QCOMPARE(str(e.file()), path);
        }
    }

    void failedWritesLeaveTheFile_data()
    {
        QTest::addColumn<QString>("change");
        QTest::newRow("unknown run id") << "unknown run";
        QTest::newRow("malformed run id") << "malformed run";
        QTest::newRow("mask shorter than layers") << "short mask";
        QTest::newRow("step already recorded") << "duplicate";
        QTest::newRow("negative step index") << "negative index";
        QTest::newRow("unit beyond the layers") << "unit layer";
        QTest::newRow("block scores of the wrong length") << "block scores";
        QTest::newRow("distance matrix of the wrong size") << "distance matrix";
        QTest::newRow("offspring genome of the wrong length") << "offspring";
        QTest::newRow("swap of a block") << "swap kind";
        QTest::newRow("unknown status") << "status";
        QTest::newRow("status of an unknown run") << "status run";
    }

    void failedWritesLeaveTheFile()
    {
        QFETCH(QString, change);
        const QString path = freshPath();
        const std::string p = path.toStdString();
        const std::string id = ExperimentFile::addRun(p, makeInfo(PruneMethod::EvoPress, 5, true));
        ExperimentFile::appendStep(p, id, evoStep(0, 5, true));
        const QByteArray before = fileBytes(path);

        TraceStep s = evoStep(1, 5, false);
        std::string runId = id;
        if (change == "unknown run")
            runId = "run-0002";
        else if (change == "malformed run")
            runId = "../run-0001";
        else if (change == "short mask")
            s.mask = UnitMask::dense(4);
        else if (change == "duplicate")
            s.index = 0;
        else if (change == "negative index")
            s.index = -1;
        else if (change == "unit layer")
            s.candidates = {{{UnitKind::Attention, 5}, 0.5, 0}};
        else if (change == "block scores")
            s.blockScores = {1, 2, 3};
        else if (change == "distance matrix")
            s.distanceMatrix = std::vector<double>(25, 0.0);
        else if (change == "offspring")
            s.evo.offspring[1].genome = UnitMask::dense(6);
        else if (change == "swap kind")
            s.evo.offspring[0].swaps[0].kind = UnitKind::Block;

        if (change == "status")
            QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::setStatus(p, id, "done"));
        else if (change == "status run")
            QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::setStatus(p, "run-0009", "complete"));
        else
            QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::appendStep(p, runId, s));
        QCOMPARE(fileBytes(path), before);
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
        QCOMPARE(ExperimentFile::read(p).runs.at(0).steps.size(), std::size_t(1));
    }

    void missingFiles()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::read(p));
        QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::appendStep(p, "run-0001", greedyStep(0, 6)));
        QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::setStatus(p, "run-0001", "complete"));
        QVERIFY(!QFileInfo::exists(path));
        RunInfo bad = makeInfo(PruneMethod::Sleb, 0, true);
        QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::addRun(p, bad));
        QVERIFY(!QFileInfo::exists(path));
        QVERIFY_THROWS_EXCEPTION(UsageError,
            ExperimentFile::addRun(
                m_dir.filePath("no/such/folder/x.h5").toStdString(), makeInfo(PruneMethod::Sleb, 6, true)));
        QCOMPARE(entries(QFileInfo(path).path()), QStringList());
    }

    void sha256Vectors_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QString>("digest");
        QTest::newRow("empty") << QByteArray() << "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        QTest::newRow("abc") << QByteArray("abc") << "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        QTest::newRow("448 bits") << QByteArray("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                                  << "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
        QTest::newRow("896 bits") << QByteArray("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                                                "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")
                                  << "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1";
        QTest::newRow("a million a") << QByteArray(1000000, 'a')
                                     << "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    }

    void sha256Vectors()
    {
        QFETCH(QByteArray, input);
        QFETCH(QString, digest);
        QCOMPARE(str(sha256Hex(input.constData(), std::size_t(input.size()))), digest);
        // The same bytes as a file: read through the buffer, across its boundaries.
        const QString path = freshPath() + ".bin";
        writeBytes(path, input);
        QCOMPARE(str(contentHash(path.toStdString())), "sha256:" + digest);
    }

    void folderHash()
    {
        const QString folder = freshPath() + ".d";
        QDir().mkpath(folder + "/sub");
        writeBytes(folder + "/b.json", "{}");
        writeBytes(folder + "/a.bin", QByteArray(3 << 20, '\x11'));
        writeBytes(folder + "/sub/c.txt", "hello");
        const std::string h = contentHash(folder.toStdString());
        QVERIFY(h.rfind("sha256:", 0) == 0);
        QCOMPARE(h.size(), std::size_t(7 + 64));
        QCOMPARE(contentHash(folder.toStdString()), h);
        // Renaming a file, or changing a byte, changes the hash.
        QVERIFY(QFile::rename(folder + "/sub/c.txt", folder + "/sub/d.txt"));
        const std::string renamed = contentHash(folder.toStdString());
        QVERIFY(renamed != h);
        writeBytes(folder + "/sub/d.txt", "hellp");
        QVERIFY(contentHash(folder.toStdString()) != renamed);
        // Same bytes split differently between name and content give a different hash.
        const QString other = freshPath() + ".d";
        QDir().mkpath(other);
        writeBytes(other + "/ab", "c");
        const QString third = freshPath() + ".d";
        QDir().mkpath(third);
        writeBytes(third + "/a", "bc");
        QVERIFY(contentHash(other.toStdString()) != contentHash(third.toStdString()));
    }

    void sampledHash()
    {
        // A sparse file just over 1 GiB: only its size, head and tail are hashed.
        const QString path = freshPath() + ".big";
        const std::uint64_t size = (std::uint64_t(1) << 30) + 5;
        {
            std::ofstream f(path.toStdString(), std::ios::binary);
            f << "head";
        }
        std::filesystem::resize_file(path.toStdString(), size);
        const std::string h = contentHash(path.toStdString());
        QVERIFY2(h.rfind("sha256-sampled:", 0) == 0, h.c_str());
        const auto poke = [&](std::uint64_t offset) {
            std::fstream f(path.toStdString(), std::ios::binary | std::ios::in | std::ios::out);
            f.seekp(std::streamoff(offset));
            f.put('x');
        };
        poke(size / 2); // between the samples: not seen
        QCOMPARE(contentHash(path.toStdString()), h);
        poke(size - 2); // in the tail sample
        QVERIFY(contentHash(path.toStdString()) != h);
    }

    void hashErrorsNameThePath()
    {
        const QString path = m_dir.filePath("missing.bin");
        try {
            contentHash(path.toStdString());
            QFAIL("no exception");
        } catch (const UsageError &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(path), e.what());
        }
    }

    void exports()
    {
        ExperimentRun run{makeInfo(PruneMethod::Sleb, 6, true), {}};
        run.info.id = "run-0007";
        run.info.status = "complete";
        for (int i = 0; i < 3; ++i)
            run.steps.push_back(greedyStep(i, 6));
        run.steps[2].chosen.push_back({UnitKind::Mlp, 1});

        const nlohmann::json j = runToJson(run);
        QCOMPARE(str(j.at("id").get<std::string>()), QStringLiteral("run-0007"));
        QCOMPARE(str(j.at("method").get<std::string>()), QStringLiteral("sleb"));
        QVERIFY(j.at("options") == run.info.options.toJson());
        QCOMPARE(j.at("steps").size(), std::size_t(3));
        QVERIFY(j.at("steps")[0].at("perplexity").is_null()); // NaN
        QCOMPARE(j.at("steps")[1].at("perplexity").get<double>(), 5.5);
        QVERIFY(j.at("steps")[0].at("candidates").back().at("score").is_null());
        QCOMPARE(str(j.at("steps")[2].at("chosen")[1].get<std::string>()), QStringLiteral("mlp 1"));
        QVERIFY(j.at("steps")[0].at("evo").is_null());
        QCOMPARE(j.at("steps")[2].at("tokens").get<std::int64_t>(), std::int64_t(1) << 35);
        // Strict JSON: no NaN literal anywhere.
        QVERIFY(!QString::fromStdString(j.dump()).contains("NaN", Qt::CaseInsensitive));

        const QStringList lines = str(runToCsv(run)).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 4);
        QCOMPARE(lines[0],
            QStringLiteral("index,kind,chosen,score,near_tie,removed_so_far,perplexity,kl_to_dense,evaluations,"
                           "unit_forwards,tokens,seconds"));
        QCOMPARE(lines[1], QStringLiteral("0,phase,\"block 2\",1234.5,0,\"block 2\",,,5,18,8589934592,0.125"));
        QVERIFY2(lines[3].startsWith("2,phase,\"block 4;mlp 1\",1236.5,0,\"block 2;block 3;block 4\",6.5,0.02,"),
            qPrintable(lines[3]));

        const QString report = str(runReportText(run));
        QVERIFY2(report.contains("run-0007"), qPrintable(report));
        QVERIFY(report.contains(str(run.info.label)));
        QVERIFY(report.contains(str(run.info.modelHash)));
        QVERIFY(report.contains("complete"));
        QVERIFY(report.contains("4.1357"));
        QVERIFY(report.contains(str(run.info.calibrationProtocol.oneLine())));
        QVERIFY(report.contains("block 4, mlp 1"));
        QVERIFY(report.contains("(near tie)"));
        QVERIFY2(report.contains("removal order: block 2, block 3, block 4\n"), qPrintable(report));

        // A one-shot run has no cumulative list: the order is that of the chosen units.
        ExperimentRun oneShot{makeInfo(PruneMethod::Angular, 5, false), {oneShotStep(5)}};
        const QString text = str(runReportText(oneShot));
        QVERIFY2(text.contains("removal order: block 2, block 3\n"), qPrintable(text));
        QVERIFY(text.contains("evaluation protocol:  none"));
    }
};

QTEST_GUILESS_MAIN(TestExperimentFile)
#include "tst_experimentfile.moc"
