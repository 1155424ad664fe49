#pragma once

// Runs, steps, PPA points and sweeps made up for the experiment-file suites, and field-by-field
// comparisons of what read() gives back. Header-only: included by tst_experimentfile and
// tst_experimentppa.

#include "store/experimentfile.h"

#include <QDir>
#include <QFile>
#include <QString>
#include <QTest>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace blockscope::test {

constexpr double NaN = TraceStep::NaN;

inline QByteArray fileBytes(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

inline void writeBytes(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(f.write(bytes), bytes.size());
}

inline QString str(const std::string &s)
{
    return QString::fromStdString(s);
}

// Doubles compare bit for bit apart from NaN, which must stay NaN.
inline bool same(double a, double b)
{
    return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b));
}

inline bool same(const std::vector<double> &a, const std::vector<double> &b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!same(a[i], b[i]))
            return false;
    return true;
}

inline UnitMask maskOf(int layers, std::initializer_list<int> attn, std::initializer_list<int> mlp)
{
    UnitMask m = UnitMask::dense(layers);
    for (int l : attn)
        m.skipAttn[l] = true;
    for (int l : mlp)
        m.skipMlp[l] = true;
    return m;
}

inline RunInfo makeInfo(PruneMethod method, int layers, bool withEvaluation)
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
inline TraceStep greedyStep(int index, int layers)
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
    if (index == 1 && s.candidates.size() > 2) // stopped early (PruneOptions::earlyStop)
        s.candidates[1].lowerBound = true;
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
inline TraceStep evoStep(int index, int layers, bool initial)
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
inline TraceStep oneShotStep(int layers)
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

inline void compareMask(const UnitMask &a, const UnitMask &b)
{
    QVERIFY(a.skipAttn == b.skipAttn);
    QVERIFY(a.skipMlp == b.skipMlp);
}

inline void compareInfo(const RunInfo &a, const RunInfo &b)
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

inline void compareStep(const TraceStep &a, const TraceStep &b)
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
        QCOMPARE(a.candidates[i].lowerBound, b.candidates[i].lowerBound);
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
inline ppa::Figure measuredFigure(double median, double lo, double hi, int runs, std::string note = {})
{
    return {median, lo, hi, runs, ppa::Provenance::Measured, std::move(note)};
}

inline ppa::CostModel costsOf(int layers, const UnitMask &mask, bool timed)
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
            u.joulesPerToken = timed && !u.removed
                ? ppa::Figure{1e-6 * (l + 1), NaN, NaN, 0, ppa::Provenance::Derived, "apportioned"}
                : ppa::Figure::modelled(u.removed ? NaN : 3e-7, "modelled");
            c.units.push_back(u);
        }
    }
    c.units.push_back({"lm_head", -1, false, 8192, 32768, 16384, 16384, 32768, ppa::Figure::modelled(0.0),
        ppa::Figure::modelled(4e-7, "modelled")});
    return c;
}

inline std::vector<ppa::PpaPoint> makePoints(int layers)
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
    a.predictions.push_back({"H100 SXM", false, 1.5e6, 0.0125, 1e-5, 2e-5, true, false, "H100 SXM"});
    a.predictions.push_back({"local (calibrated)", true, 5000, 3.5, NaN, 2.5e-3, false, true, "AMD EPYC 9654"});

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

inline void compareFigure(const ppa::Figure &a, const ppa::Figure &b)
{
    QVERIFY(same(a.value, b.value));
    QVERIFY(same(a.min, b.min));
    QVERIFY(same(a.max, b.max));
    QCOMPARE(a.runs, b.runs);
    QVERIFY(a.provenance == b.provenance);
    QCOMPARE(str(a.note), str(b.note));
}

inline void comparePoint(const ppa::PpaPoint &a, const ppa::PpaPoint &b)
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
        QCOMPARE(p.energyConstantsFrom, q.energyConstantsFrom);
    }
}

inline void compareRun(const ExperimentRun &a, const ExperimentRun &b)
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
inline SweepRecord makeSweep(int layers)
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
    c.ppa.predictions.push_back({"H200", false, 2.5e6, 0.01, 1e-5, 2e-5, true, false, "H200"});

    s.points = {a, b, c};
    return s;
}

inline void compareSweep(const SweepRecord &a, const SweepRecord &b)
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
inline int patchBytes(const QString &path, const QByteArray &from, const QByteArray &to)
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

inline QStringList entries(const QString &dir)
{
    return QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot);
}

} // namespace blockscope::test
