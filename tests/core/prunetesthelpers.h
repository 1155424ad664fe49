#pragma once

// What the pruning tests share: tiny models and windows, naive references of the scores, the
// options and search shorthands, and trace comparisons.

#include "common/formaterror.h"
#include "eval/perplexity.h"
#include "eval/windows.h"
#include "jobs/jobcontext.h"
#include "model/decoder.h"
#include "prune/calibrationscorer.h"
#include "prune/prunesearch.h"
#include "tinymodel.h"

#include <ATen/ATen.h>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <set>

namespace blockscope::prunetest {

using namespace blockscope::test;

constexpr int Vocab = 64;

inline Architecture tinyArchitecture(int layers)
{
    return test::tinyArchitecture({.layers = layers, .vocab = Vocab});
}

inline std::unique_ptr<Decoder> tinyDecoder(int layers, std::uint64_t seed, const std::set<int> &identity = {})
{
    return test::tinyDecoder({.layers = layers, .vocab = Vocab}, seed, identity);
}

// Windows continued greedily by the model itself from a random first token.
inline WindowSet selfGeneratedWindows(const Decoder &d, int n, int T, std::uint64_t seed)
{
    WindowSet set = randomWindows(n, 2, seed);
    set.protocol.context = set.protocol.stride = T;
    for (auto &w : set.windows)
        while (static_cast<int>(w.ids.size()) < T) {
            at::Tensor t = at::empty({1, static_cast<std::int64_t>(w.ids.size())}, at::kLong);
            for (std::size_t p = 0; p < w.ids.size(); ++p)
                t[0][static_cast<std::int64_t>(p)] = w.ids[p];
            const at::Tensor z = d.forward(t, UnitMask::dense(d.layers()));
            w.ids.push_back(static_cast<std::int32_t>(z[0][-1].argmax().item<std::int64_t>()));
        }
    return set;
}

// The naive scores of the official codes: every window alone, a full forward per candidate.
inline double naiveScore(const Decoder &d, const WindowSet &set, const UnitMask &mask, ScoreKind kind)
{
    double num = 0, den = 0;
    for (const auto &w : set.windows) {
        at::Tensor t = tokensOf(w);
        at::Tensor dense = d.forward(t, UnitMask::dense(d.layers()));
        accumulateScore(kind, t, w.firstTarget, denseReference(kind, dense), d.forward(t, mask), num, den);
    }
    return num / den;
}

inline PruneOptions options(PruneMethod m, double target)
{
    PruneOptions o;
    o.method = m;
    o.target = target;
    o.evaluateSteps = false;
    return o;
}

inline PruneResult search(const Decoder &d, const WindowSet &calib, const PruneOptions &o,
    const std::vector<TraceStep> &resume = {}, const WindowSet *eval = nullptr)
{
    JobContext job;
    return runPruneSearch(d, calib, eval, o, job, {}, resume);
}

inline bool relClose(double a, double b, double rel = 1e-6)
{
    return std::abs(a - b) <= rel * std::max({std::abs(a), std::abs(b), 1e-12});
}

// Traces equal in everything but wall time.
inline void compareTraces(const std::vector<TraceStep> &a, const std::vector<TraceStep> &b, bool exactScores)
{
    QCOMPARE(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        QCOMPARE(a[i].index, b[i].index);
        QCOMPARE(a[i].kind, b[i].kind);
        QVERIFY(a[i].chosen == b[i].chosen);
        QVERIFY(a[i].mask == b[i].mask);
        QVERIFY(a[i].removedSoFar == b[i].removedSoFar);
        QCOMPARE(a[i].candidates.size(), b[i].candidates.size());
        for (std::size_t c = 0; c < a[i].candidates.size(); ++c) {
            QVERIFY(a[i].candidates[c].unit == b[i].candidates[c].unit);
            QCOMPARE(a[i].candidates[c].lowerBound, b[i].candidates[c].lowerBound);
            if (exactScores)
                QCOMPARE(a[i].candidates[c].score, b[i].candidates[c].score);
            else
                QVERIFY2(relClose(a[i].candidates[c].score, b[i].candidates[c].score),
                    qPrintable(QStringLiteral("step %1 candidate %2: %3 vs %4")
                                   .arg(i)
                                   .arg(c)
                                   .arg(a[i].candidates[c].score, 0, 'g', 12)
                                   .arg(b[i].candidates[c].score, 0, 'g', 12)));
        }
        if (exactScores) {
            QCOMPARE(a[i].chosenScore, b[i].chosenScore);
            QCOMPARE(a[i].rngState, b[i].rngState);
            QCOMPARE(a[i].evaluations, b[i].evaluations);
            QCOMPARE(a[i].unitForwards, b[i].unitForwards);
            QCOMPARE(a[i].tokens, b[i].tokens);
        }
        QCOMPARE(a[i].hasEvo, b[i].hasEvo);
        if (a[i].hasEvo) {
            QCOMPARE(a[i].evo.offspring.size(), b[i].evo.offspring.size());
            for (std::size_t c = 0; c < a[i].evo.offspring.size(); ++c)
                QVERIFY(a[i].evo.offspring[c].genome == b[i].evo.offspring[c].genome);
            QVERIFY(a[i].evo.stageSequences == b[i].evo.stageSequences);
            QVERIFY(a[i].evo.population == b[i].evo.population);
        }
    }
}

} // namespace blockscope::prunetest
