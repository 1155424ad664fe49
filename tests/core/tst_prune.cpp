// The pruning searches against pruning.md §11: mask semantics, score primitives, greedy searches
// against naive references written here, EvoPress on an enumerable problem, the one-shot
// baselines, caching, counts, determinism, resume and guards.
#include "common/formaterror.h"
#include "eval/perplexity.h"
#include "eval/windows.h"
#include "jobs/jobcontext.h"
#include "model/decoder.h"
#include "model/modelhandle.h"
#include "prune/calibrationscorer.h"
#include "prune/prunesearch.h"
#include "prunetesthelpers.h"
#include "testdata.h"
#include "tinymodel.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <QFile>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <set>

using namespace blockscope;
using namespace blockscope::test;

using namespace blockscope::prunetest;

class TestPrune : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { at::set_num_threads(1); } // bit-identical reruns need a fixed thread count

    // §11.1–3
    void skippingEqualsDeletion_data()
    {
        QTest::addColumn<int>("layer");
        for (int l : {0, 2, 5})
            QTest::addRow("block %d of 6", l) << l;
    }
    void skippingEqualsDeletion()
    {
        QFETCH(int, layer);
        auto w = test::tinyWeights({.layers = 6, .vocab = Vocab}, 11);
        Decoder full(tinyArchitecture(6), w);
        std::map<std::string, at::Tensor> fewer;
        for (auto &[name, t] : w) {
            const std::string prefix = "model.layers.";
            if (name.rfind(prefix, 0) != 0) {
                fewer[name] = t;
                continue;
            }
            const auto dot = name.find('.', prefix.size());
            const int l = std::stoi(name.substr(prefix.size(), dot - prefix.size()));
            if (l == layer)
                continue;
            fewer[prefix + std::to_string(l > layer ? l - 1 : l) + name.substr(dot)] = t;
        }
        Decoder deleted(tinyArchitecture(5), fewer);
        const at::Tensor tokens = tokensOf(randomWindows(1, 24, 3).windows[0]);
        UnitMask skip = UnitMask::dense(6);
        skip.skipBlock(layer);
        const double diff
            = (full.forward(tokens, skip) - deleted.forward(tokens, UnitMask::dense(5))).abs().max().item<double>();
        QVERIFY2(diff <= 1e-6, qPrintable(QString::number(diff)));
        UnitMask both = UnitMask::dense(6);
        both.skipAttn[layer] = both.skipMlp[layer] = true;
        QVERIFY(both == skip); // skipping both sublayers is skipping the block
    }

    void identityBlockSkipChangesNothing()
    {
        auto d = tinyDecoder(6, 5, {3});
        const at::Tensor tokens = tokensOf(randomWindows(1, 24, 4).windows[0]);
        UnitMask skip = UnitMask::dense(6);
        skip.skipBlock(3);
        QCOMPARE((d->forward(tokens, skip) - d->forward(tokens, UnitMask::dense(6))).abs().max().item<double>(), 0.0);
    }

    // §11.4–6
    void handExamples()
    {
        const at::Tensor P = at::tensor({0.5f, 0.5f}).log().view({1, 1, 2});
        const at::Tensor Q = at::tensor({0.9f, 0.1f}).log().view({1, 1, 2});
        const at::Tensor tok = at::zeros({1, 1}, at::kLong);
        const double js = scoreLogits(ScoreKind::JsFinercut, tok, 1, P, Q);
        QVERIFY2(std::abs(js - 0.0589866) < 1e-6, qPrintable(QString::number(js, 'g', 8)));
        // kl_evopress drops the last position: two positions, the first carries P and Q.
        const at::Tensor P2 = at::cat({P, P}, 1), Q2 = at::cat({Q, Q}, 1);
        const at::Tensor tok2 = at::zeros({1, 2}, at::kLong);
        QCOMPARE(scoreLogits(ScoreKind::KlEvopress, tok2, 1, P2, P2), 0.0);
        const double kl = scoreLogits(ScoreKind::KlEvopress, tok2, 1, P2, Q2);
        QVERIFY2(std::abs(kl - 0.5108256) < 1e-6, qPrintable(QString::number(kl, 'g', 8)));
        const double klReverse = scoreLogits(ScoreKind::KlEvopress, tok2, 1, Q2, P2);
        QVERIFY(std::abs(klReverse - 0.5108256) > 1e-3); // the direction is KL(P‖Q)
    }

    void nllSumSlebIsTTimesWindowMeans()
    {
        auto d = tinyDecoder(4, 7);
        const WindowSet set = randomWindows(5, 20, 8);
        const auto ppl = evaluatePerplexity(*d, set, UnitMask::dense(4));
        double expected = 0;
        for (double l : ppl.windowMeanNll)
            expected += 20 * l;
        const double s = naiveScore(*d, set, UnitMask::dense(4), ScoreKind::NllSumSleb);
        QVERIFY2(relClose(s, expected), qPrintable(QStringLiteral("%1 vs %2").arg(s).arg(expected)));
    }

    // §11.9
    void slebFirstStepIsExhaustiveBest()
    {
        auto d = tinyDecoder(6, 21);
        const WindowSet calib = randomWindows(6, 24, 22);
        const auto r = search(*d, calib, options(PruneMethod::Sleb, 1));
        QCOMPARE(int(r.steps.size()), 1);
        int best = -1;
        double bestScore = INFINITY;
        for (int l = 1; l <= 4; ++l) { // barriers: blocks 0 and 5 stay
            UnitMask m = UnitMask::dense(6);
            m.skipBlock(l);
            const double s = naiveScore(*d, calib, m, ScoreKind::NllSumSleb);
            if (s < bestScore)
                bestScore = s, best = l;
        }
        QCOMPARE(r.steps[0].chosen.front().layer, best);
        QVERIFY(relClose(r.steps[0].chosenScore, bestScore));
        QCOMPARE(int(r.steps[0].candidates.size()), 4);
    }

    // §11.10 and §11.16: SLEB and FinerCut traces against naive references written here.
    void greedyMatchesNaiveReference_data()
    {
        QTest::addColumn<int>("method");
        QTest::addColumn<int>("steps");
        QTest::addColumn<bool>("cached");
        QTest::addColumn<int>("batch");
        QTest::addRow("SLEB K=2 cached batched") << int(PruneMethod::Sleb) << 2 << true << 0;
        QTest::addRow("SLEB K=3 uncached batch 1") << int(PruneMethod::Sleb) << 3 << false << 1;
        QTest::addRow("SLEB K=3 cached batch 2") << int(PruneMethod::Sleb) << 3 << true << 2;
        QTest::addRow("FinerCut 5 steps cached") << int(PruneMethod::FinerCut) << 5 << true << 0;
        QTest::addRow("FinerCut 4 steps uncached batch 1") << int(PruneMethod::FinerCut) << 4 << false << 1;
    }
    void greedyMatchesNaiveReference()
    {
        QFETCH(int, method);
        QFETCH(int, steps);
        QFETCH(bool, cached);
        QFETCH(int, batch);
        const int L = 6;
        auto d = tinyDecoder(L, 31);
        const WindowSet calib = randomWindows(4, 20, 32);
        PruneOptions o = options(PruneMethod(method), steps);
        o.cached = cached;
        o.batch = batch;
        const auto r = search(*d, calib, o);
        QCOMPARE(int(r.steps.size()), steps);

        // The reference: the loops of pruning.md §3 and §4, naive scores.
        const bool sleb = PruneMethod(method) == PruneMethod::Sleb;
        const ScoreKind kind = sleb ? ScoreKind::NllSumSleb : ScoreKind::JsFinercut;
        UnitMask mask = UnitMask::dense(L);
        std::vector<Unit> alive, excluded;
        if (sleb) {
            for (int l = 0; l < L; ++l)
                alive.push_back({UnitKind::Block, l});
        } else {
            for (int l = 0; l < L; ++l)
                for (UnitKind k : {UnitKind::Attention, UnitKind::Mlp})
                    (l == 0 ? excluded : alive).push_back({k, l});
            std::sort(alive.begin(), alive.end(), [](const Unit &a, const Unit &b) { return a.hfName() < b.hfName(); });
            std::sort(
                excluded.begin(), excluded.end(), [](const Unit &a, const Unit &b) { return a.hfName() < b.hfName(); });
        }
        for (int step = 0; step < steps; ++step) {
            const int first = sleb ? 1 : 0, last = sleb ? int(alive.size()) - 2 : int(alive.size()) - 1;
            double best = INFINITY;
            int k = -1;
            std::vector<double> scores;
            for (int j = first; j <= last; ++j) {
                UnitMask m = mask;
                alive[j].applyTo(m);
                scores.push_back(naiveScore(*d, calib, m, kind));
                if (scores.back() < best)
                    best = scores.back(), k = j;
            }
            const TraceStep &t = r.steps[step];
            QCOMPARE(int(t.candidates.size()), int(scores.size()));
            for (std::size_t c = 0; c < scores.size(); ++c) {
                QVERIFY(t.candidates[c].unit == alive[first + int(c)]);
                QVERIFY2(relClose(t.candidates[c].score, scores[c]),
                    qPrintable(QStringLiteral("step %1 %2: %3 vs naive %4")
                                   .arg(step)
                                   .arg(QString::fromStdString(t.candidates[c].unit.label()))
                                   .arg(t.candidates[c].score, 0, 'g', 12)
                                   .arg(scores[c], 0, 'g', 12)));
            }
            if (!t.nearTie)
                QVERIFY2(t.chosen.front() == alive[k], qPrintable(QString::fromStdString(t.chosen.front().label())));
            alive[k].applyTo(mask);
            alive.erase(alive.begin() + k);
            if (!sleb && step == 0) // x = 0: E = 1, layer 0 re-admitted after the first step, at the end
                alive.insert(alive.end(), excluded.begin(), excluded.end());
            QVERIFY(t.mask == mask);
        }
    }

    // §11.11: a tie between layer 10 and layer 2 picks layer 10, which sorts first.
    void finercutTiesFollowNameOrder()
    {
        auto d = tinyDecoder(12, 41, {2, 10});
        const WindowSet calib = randomWindows(2, 16, 42);
        const auto r = search(*d, calib, options(PruneMethod::FinerCut, 1));
        const TraceStep &t = r.steps.at(0);
        QCOMPARE(t.chosen.front().layer, 10);
        QCOMPARE(t.chosen.front().kind, UnitKind::Mlp); // "mlp" < "self_attn"
        QVERIFY2(std::abs(t.chosenScore) < 1e-9, qPrintable(QString::number(t.chosenScore))); // float32 log(exp(.))
        QCOMPARE(t.candidates.at(2).score, t.candidates.at(3).score); // mlp 10 and attn 10: the same logits
        QVERIFY(t.nearTie);
        QCOMPARE(t.candidates.front().unit.hfName(), std::string("model.layers.1.mlp.down_proj"));
        QCOMPARE(t.candidates.at(1).unit.hfName(), std::string("model.layers.1.self_attn.o_proj"));
        QCOMPARE(t.candidates.at(2).unit.hfName(), std::string("model.layers.10.mlp.down_proj"));
    }

    // §11.15
    void identicalBlocksTieToTheLowerPosition()
    {
        auto d = tinyDecoder(6, 51, {2, 3});
        // Text the model itself predicts, so that removing a working block costs and removing an
        // identity block does not.
        const WindowSet calib = selfGeneratedWindows(*d, 3, 16, 52);
        const auto sleb = search(*d, calib, options(PruneMethod::Sleb, 1));
        QCOMPARE(sleb.steps[0].chosen.front().layer, 2);
        QVERIFY(sleb.steps[0].nearTie);
        const auto shortgpt = search(*d, calib, options(PruneMethod::ShortGpt, 1));
        QCOMPARE(shortgpt.steps[0].chosen.front().layer, 2);
        QVERIFY(shortgpt.steps[0].nearTie);
        const auto angular = search(*d, calib, options(PruneMethod::Angular, 1));
        QCOMPARE(angular.steps[0].chosen.front().layer, 2);
        QVERIFY(angular.steps[0].nearTie);
    }

    // §11.13
    void shortGptBlockInfluence()
    {
        auto d = tinyDecoder(6, 61, {3});
        const WindowSet calib = randomWindows(3, 16, 62);
        const auto on = search(*d, calib, options(PruneMethod::ShortGpt, 2));
        QVERIFY2(
            std::abs(on.steps[0].blockScores.at(3)) < 1e-9, qPrintable(QString::number(on.steps[0].blockScores[3])));
        QCOMPARE(on.steps[0].chosen.front().layer, 3);
        QCOMPARE(int(on.steps.size()), 2);
        QCOMPARE(int(on.steps[1].chosen.size()), 2);
        PruneOptions o = options(PruneMethod::ShortGpt, 2);
        o.lastHiddenPostNorm = false;
        const auto off = search(*d, calib, o);
        for (int l = 0; l < 5; ++l)
            QCOMPARE(off.steps[0].blockScores[l], on.steps[0].blockScores[l]);
        QVERIFY(off.steps[0].blockScores[5] != on.steps[0].blockScores[5]);
    }

    // §11.14
    void angularFindsIdentityRun()
    {
        auto d = tinyDecoder(8, 71, {3, 4});
        const WindowSet calib = randomWindows(4, 16, 72);
        const auto r = search(*d, calib, options(PruneMethod::Angular, 3));
        const auto &D = r.steps[1].distanceMatrix;
        QCOMPARE(int(D.size()), 81);
        QVERIFY2(D[3 * 9 + 5] < 1e-6, qPrintable(QString::number(D[3 * 9 + 5])));
        QCOMPARE(r.steps[1].chosen.front().layer, 3); // n = 2: the run 3..4
        QCOMPARE(int(r.steps[1].chosen.size()), 2);
        QCOMPARE(r.steps[0].chosen.front().layer, 3); // n = 1: 3 (lowest of the zero-distance pair)
        QVERIFY(D[0 * 9 + 1] > 1e-3);
    }

    // §11.17
    void countsMatchTheFormulas()
    {
        auto d = tinyDecoder(5, 81);
        const WindowSet calib = randomWindows(3, 16, 82);
        PruneOptions o = options(PruneMethod::Sleb, 2);
        const auto cached = search(*d, calib, o);
        o.cached = false;
        const auto naive = search(*d, calib, o);
        QCOMPARE(cached.steps.back().evaluations, 5); // K(L−2) − K(K−1)/2
        QCOMPARE(cached.steps.back().unitForwards, 14);
        QCOMPARE(naive.steps.back().unitForwards, 18);
        compareTraces(cached.steps, naive.steps, false);

        // FinerCut full ranking, L = 5, x = 0. The §8 table assumes every unit is a candidate at
        // step 0; the faithful E = 1 rule keeps layer 0's two units out of step 0, so
        // evaluations are 55 − 2, uncached 330 − 2·9 = 312, cached 10 + (45 − 1 − 0 − ... ) = 158.
        PruneOptions f = options(PruneMethod::FinerCut, 0);
        const auto fc = search(*d, calib, f);
        f.cached = false;
        const auto fn = search(*d, calib, f);
        QCOMPARE(int(fc.steps.size()), 10);
        QCOMPARE(fc.steps.back().evaluations, 53);
        QCOMPARE(fn.steps.back().unitForwards, 312);
        QCOMPARE(fc.steps.back().unitForwards, 158);
        compareTraces(fc.steps, fn.steps, false);
    }

    // When fewer new genomes can be reached than offspring are asked for, RejectionCap (1000)
    // rejected draws in a row end the generation with what it found, and the step says so. One
    // swap from a single parent reaches 2·k·(L − k) = 12 genomes of the 100 valid ones.
    void evoPressStopsDrawingAtTheRejectionCap()
    {
        const int L = 5;
        auto d = tinyDecoder(L, 91);
        const WindowSet calib = randomWindows(2, 16, 92);
        PruneOptions o = options(PruneMethod::EvoPress, 2);
        o.offspring = 99;
        o.maxMutations = 1;
        o.generations = 1;
        o.stageSurvivors = {1};
        o.initialGenomes = 2;
        o.initialTokens = 2 * 16;
        o.stageTokens = {2 * 16};
        const auto r = search(*d, calib, o);
        QCOMPARE(int(r.steps.size()), 2);
        const EvoGeneration &g = r.steps[1].evo;
        QVERIFY(g.rejectionCapHit);
        QCOMPARE(int(g.offspring.size()), 12);
        QVERIFY2(g.rejectedDraws >= 1000, qPrintable(QString::number(g.rejectedDraws)));
        // The initial step drew two distinct genomes of 100 without hitting it.
        QVERIFY(!r.steps[0].evo.rejectionCapHit);
        QCOMPARE(int(r.steps[0].evo.offspring.size()), 2);
    }

    // §11.12
    void evoPressOnAnEnumerableProblem()
    {
        const int L = 5;
        auto d = tinyDecoder(L, 91);
        const WindowSet calib = randomWindows(4, 16, 92);
        const std::int64_t all = 4 * 16;
        PruneOptions o = options(PruneMethod::EvoPress, 2);
        o.offspring = 32;
        o.generations = 60;
        o.initialTokens = all;
        o.stageTokens = {all, all};
        const auto r = search(*d, calib, o);
        QCOMPARE(int(r.steps.size()), 61);

        // Exhaustive fitness of all 100 genomes on the whole calibration set.
        std::map<std::pair<std::vector<bool>, std::vector<bool>>, double> fitness;
        JobContext job;
        std::vector<ScoredSequence> seqs;
        for (const auto &w : calib.windows)
            seqs.push_back({w.ids, w.firstTarget, {}});
        CalibrationScorer scorer(*d, seqs, ScoreKind::KlEvopress, 0, false, job);
        double optimum = INFINITY;
        for (int a = 0; a < 32; ++a)
            for (int m = 0; m < 32; ++m) {
                if (__builtin_popcount(a) != 2 || __builtin_popcount(m) != 2)
                    continue;
                UnitMask g = UnitMask::dense(L);
                for (int l = 0; l < L; ++l)
                    g.skipAttn[l] = a >> l & 1, g.skipMlp[l] = m >> l & 1;
                fitness[{g.skipAttn, g.skipMlp}] = scorer.score(g);
                optimum = std::min(optimum, fitness[{g.skipAttn, g.skipMlp}]);
            }
        QCOMPARE(int(fitness.size()), 100);

        // Every genome ever produced: k removals of each kind; offspring unique per generation.
        for (const TraceStep &t : r.steps) {
            std::set<std::pair<std::vector<bool>, std::vector<bool>>> seen;
            for (const auto &c : t.evo.offspring) {
                QCOMPARE(int(std::count(c.genome.skipAttn.begin(), c.genome.skipAttn.end(), true)), 2);
                QCOMPARE(int(std::count(c.genome.skipMlp.begin(), c.genome.skipMlp.end(), true)), 2);
                QVERIFY(seen.insert({c.genome.skipAttn, c.genome.skipMlp}).second);
                QVERIFY(c.swaps.size() <= 3);
            }
            QVERIFY(int(t.evo.offspring.size()) <= (t.kind == "initial" ? 64 : 32));
        }
        // The fitness never gets worse (the same minibatch every stage) ...
        for (std::size_t i = 1; i < r.steps.size(); ++i)
            QVERIFY(r.steps[i].chosenScore <= r.steps[i - 1].chosenScore + 1e-12);
        const UnitMask &final = r.steps.back().mask;
        const double finalFitness = fitness[{final.skipAttn, final.skipMlp}];
        QVERIFY(relClose(r.steps.back().chosenScore, finalFitness));
        // ... it is optimal within 3 swaps (here every genome is within 4; check the neighbours) ...
        for (const auto &[key, f] : fitness) {
            int swaps = 0;
            for (int l = 0; l < L; ++l)
                swaps += (key.first[l] && !final.skipAttn[l]) + (key.second[l] && !final.skipMlp[l]);
            if (swaps <= 3)
                QVERIFY2(finalFitness <= f + 1e-12, "a neighbour within 3 swaps is better");
        }
        // ... and it is the exhaustive optimum.
        qInfo("EvoPress final fitness %.8g, exhaustive optimum %.8g", finalFitness, optimum);
        QVERIFY(relClose(finalFitness, optimum, 1e-9));
    }

    // §11.18
    void deterministicAndSeeded()
    {
        auto d = tinyDecoder(6, 101);
        const WindowSet calib = randomWindows(6, 16, 102);
        PruneOptions o = options(PruneMethod::EvoPress, 2);
        o.initialTokens = 32;
        o.stageTokens = {32, 64};
        o.offspring = 8;
        o.generations = 6;
        const auto a = search(*d, calib, o), b = search(*d, calib, o);
        compareTraces(a.steps, b.steps, true);
        o.seed = 7;
        const auto c = search(*d, calib, o);
        bool differs = false;
        for (std::size_t i = 0; i < a.steps.size(); ++i)
            differs = differs || a.steps[i].evo.stageSequences != c.steps[i].evo.stageSequences
                || !(a.steps[i].evo.offspring.front().genome == c.steps[i].evo.offspring.front().genome);
        QVERIFY(differs);
        const auto s1 = search(*d, calib, options(PruneMethod::Sleb, 2)),
                   s2 = search(*d, calib, options(PruneMethod::Sleb, 2));
        compareTraces(s1.steps, s2.steps, true);
    }

    // §11.19
    void resumeAfterCancelGivesTheSameTrace_data()
    {
        QTest::addColumn<int>("method");
        QTest::addColumn<double>("target");
        QTest::addColumn<int>("stopAfter");
        QTest::addRow("sleb") << int(PruneMethod::Sleb) << 3.0 << 1;
        QTest::addRow("finercut") << int(PruneMethod::FinerCut) << 6.0 << 2;
        QTest::addRow("evopress") << int(PruneMethod::EvoPress) << 2.0 << 3;
        QTest::addRow("shortgpt") << int(PruneMethod::ShortGpt) << 3.0 << 1;
        QTest::addRow("angular") << int(PruneMethod::Angular) << 3.0 << 2;
    }
    void resumeAfterCancelGivesTheSameTrace()
    {
        QFETCH(int, method);
        QFETCH(double, target);
        QFETCH(int, stopAfter);
        auto d = tinyDecoder(6, 111);
        const WindowSet calib = randomWindows(6, 16, 112);
        const WindowSet eval = randomWindows(3, 16, 113);
        PruneOptions o = options(PruneMethod(method), target);
        o.evaluateSteps = true;
        o.initialTokens = 32;
        o.stageTokens = {32, 64};
        o.offspring = 8;
        o.generations = 5;
        const auto whole = search(*d, calib, o, {}, &eval);

        std::stop_source stop;
        std::vector<TraceStep> got;
        JobContext job(stop.get_token());
        bool cancelled = false;
        try {
            runPruneSearch(*d, calib, &eval, o, job, [&](const TraceStep &s) {
                got.push_back(s);
                if (int(got.size()) == stopAfter)
                    stop.request_stop();
            });
        } catch (const JobCancelled &) {
            cancelled = true;
        }
        QVERIFY(cancelled);
        QCOMPARE(int(got.size()), stopAfter);
        const auto resumed = search(*d, calib, o, got, &eval);
        compareTraces(whole.steps, resumed.steps, method == int(PruneMethod::EvoPress));
        for (std::size_t i = 0; i < whole.steps.size(); ++i)
            QVERIFY(relClose(whole.steps[i].perplexity, resumed.steps[i].perplexity, 1e-9));
    }

    // A run stopped inside a step (after `stopAfter` candidates of it were scored) resumes with those
    // candidates' scores and continues inside the step: the same trace and counts as an uninterrupted
    // run, with the recorded candidates not scored again.
    void resumeInsideAStep_data()
    {
        QTest::addColumn<int>("method");
        QTest::addColumn<double>("target");
        QTest::addColumn<int>("stopAfter");
        QTest::addColumn<bool>("earlyStop");
        QTest::addRow("sleb, 1st step") << int(PruneMethod::Sleb) << 3.0 << 2 << false;
        QTest::addRow("sleb, 2nd step") << int(PruneMethod::Sleb) << 3.0 << 6 << false;
        QTest::addRow("sleb early stop, 1st step") << int(PruneMethod::Sleb) << 3.0 << 3 << true;
        QTest::addRow("sleb early stop, 2nd step") << int(PruneMethod::Sleb) << 3.0 << 6 << true;
        QTest::addRow("finercut, 1st step") << int(PruneMethod::FinerCut) << 4.0 << 5 << false;
        QTest::addRow("finercut, 3rd step") << int(PruneMethod::FinerCut) << 4.0 << 27 << false;
        QTest::addRow("evopress, initial") << int(PruneMethod::EvoPress) << 2.0 << 3 << false;
        QTest::addRow("evopress, generation 2 stage 2") << int(PruneMethod::EvoPress) << 2.0 << 40 << false;
    }
    void resumeInsideAStep()
    {
        QFETCH(int, method);
        QFETCH(double, target);
        QFETCH(int, stopAfter);
        QFETCH(bool, earlyStop);
        // Early stop needs candidates far worse than the best: a block that does nothing, on
        // windows the model continues itself (see slebEarlyStop).
        auto d = earlyStop ? tinyDecoder(6, 111, {2}) : tinyDecoder(6, 111);
        const WindowSet calib = earlyStop ? selfGeneratedWindows(*d, 6, 16, 112) : randomWindows(6, 16, 112);
        PruneOptions o = options(PruneMethod(method), target);
        o.earlyStop = earlyStop;
        if (earlyStop)
            o.batch = 1; // a candidate can stop after any window
        o.initialTokens = 32;
        o.stageTokens = {32, 64};
        o.stageSurvivors = {4, 1};
        o.offspring = 8;
        o.generations = 4;
        const auto whole = search(*d, calib, o);

        std::stop_source stop;
        std::vector<TraceStep> steps;
        std::vector<CandidateRecord> scored;
        JobContext job(stop.get_token());
        bool cancelled = false;
        try {
            runPruneSearch(
                *d, calib, nullptr, o, job, [&](const TraceStep &s) { steps.push_back(s); }, {}, {}, {},
                [&](const CandidateRecord &c) {
                    scored.push_back(c);
                    if (int(scored.size()) == stopAfter)
                        stop.request_stop();
                });
        } catch (const JobCancelled &) {
            cancelled = true;
        }
        QVERIFY(cancelled);
        // The records of the step that was not finished (the others are in `steps`).
        std::vector<CandidateRecord> pending;
        for (const auto &c : scored)
            if (c.step == int(steps.size()))
                pending.push_back(c);
        QVERIFY2(!pending.empty(), "stopped at a step boundary: pick another stopAfter");
        // Stopped candidates among the recalled ones (1st step) or in the finished steps (2nd).
        if (earlyStop)
            QVERIFY2(std::any_of(scored.begin(), scored.end(), [](const auto &c) { return c.lowerBound; }),
                "no candidate stopped early before the interruption: pick another stopAfter");

        std::vector<CandidateRecord> rescored;
        JobContext again;
        const PruneResult resumed = runPruneSearch(*d, calib, nullptr, o, again, {}, steps, {}, pending,
            [&](const CandidateRecord &c) { rescored.push_back(c); });
        QCOMPARE(resumed.recalledCandidates, int(pending.size()));
        for (const auto &c : rescored)
            for (const auto &p : pending)
                QVERIFY(!(c.step == p.step && c.stage == p.stage && c.index == p.index));
        compareTraces(whole.steps, resumed.steps, method == int(PruneMethod::EvoPress));
        for (std::size_t i = 0; i < whole.steps.size(); ++i) {
            QCOMPARE(resumed.steps[i].evaluations, whole.steps[i].evaluations);
            QCOMPARE(resumed.steps[i].unitForwards, whole.steps[i].unitForwards);
            QCOMPARE(resumed.steps[i].tokens, whole.steps[i].tokens);
        }
        QVERIFY(resumed.finalMask == whole.finalMask);

        // A record that is not the candidate the search draws (another run's journal) is refused.
        std::vector<CandidateRecord> wrong = pending;
        wrong.front().what = wrong.front().what == "block 0" ? "block 1" : "block 0";
        QVERIFY_THROWS_EXCEPTION(UsageError, runPruneSearch(*d, calib, nullptr, o, again, {}, steps, {}, wrong));
    }

    // §11.20–22
    void guards()
    {
        auto d = tinyDecoder(5, 121);
        const WindowSet calib = randomWindows(2, 16, 122);
        PruneOptions evo = options(PruneMethod::EvoPress, 1);
        evo.initialTokens = 1000; // more than the 32 calibration tokens
        QVERIFY_THROWS_EXCEPTION(UsageError, search(*d, calib, evo));
        QVERIFY_THROWS_EXCEPTION(UsageError, search(*d, calib, options(PruneMethod::Sleb, 4)));
        std::stop_source stop;
        stop.request_stop();
        JobContext job(stop.get_token());
        QVERIFY_THROWS_EXCEPTION(JobCancelled, runPruneSearch(*d, calib, nullptr, options(PruneMethod::Sleb, 1), job));
    }

    // Real models: stories260K on its golden story, the bundled demo model on its own greedy text.
    void realModelsFirstStepsAreExhaustiveBest_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addRow("stories260K") << QStringLiteral("stories260K");
        QTest::addRow("demo model") << QStringLiteral("demo");
    }
    void realModelsFirstStepsAreExhaustiveBest()
    {
        QFETCH(QString, model);
        std::unique_ptr<Decoder> owned;
        WindowSet calib;
        if (model == QStringLiteral("stories260K")) {
            BLOCKSCOPE_REQUIRE_DATA(bin, QStringLiteral("models/stories260K/stories260K.bin"));
            BLOCKSCOPE_REQUIRE_DATA(tokens, QStringLiteral("golden/stories260K.tokens.txt"));
            owned = std::make_unique<Decoder>(ModelHandle::open(bin.toStdString()));
            // Calibration from the golden story, repeated: 6 windows of 64.
            std::vector<std::int32_t> story;
            QFile f(tokens);
            QVERIFY(f.open(QIODevice::ReadOnly));
            for (const auto &part : f.readAll().trimmed().split(' '))
                story.push_back(part.toInt());
            std::vector<std::int32_t> stream;
            for (int k = 0; k < 6; ++k)
                stream.insert(stream.end(), story.begin() + 1, story.end());
            Protocol p = protocolPreset("tiny-ts");
            p.context = p.stride = 64;
            calib = cutWindows(stream, p, 1);
        } else {
            const QString dir = sourceDir() + QStringLiteral("/resources/demo-model");
            owned = std::make_unique<Decoder>(ModelHandle::open(dir.toStdString()));
            calib = selfGeneratedWindows(*owned, 4, 48, 7);
        }
        const Decoder &d = *owned;
        const int L = d.layers();
        // SLEB, two removals, against a brute-force greedy reference.
        const int K = std::min(2, L - 2);
        const auto sleb = search(d, calib, options(PruneMethod::Sleb, K));
        UnitMask mask = UnitMask::dense(L);
        std::vector<int> alive(L);
        std::iota(alive.begin(), alive.end(), 0);
        for (int step = 0; step < K; ++step) {
            double best = INFINITY;
            int k = -1;
            for (int j = 1; j + 1 < int(alive.size()); ++j) {
                UnitMask m = mask;
                m.skipBlock(alive[j]);
                const double s = naiveScore(d, calib, m, ScoreKind::NllSumSleb);
                QVERIFY(relClose(sleb.steps[step].candidates[j - 1].score, s));
                if (s < best)
                    best = s, k = j;
            }
            QCOMPARE(sleb.steps[step].chosen.front().layer, alive[k]);
            mask.skipBlock(alive[k]);
            alive.erase(alive.begin() + k);
        }
        // FinerCut's first step: the best single sublayer removal outside layer 0.
        const auto fc = search(d, calib, options(PruneMethod::FinerCut, 1));
        double best = INFINITY;
        Unit bestUnit;
        for (int l = 1; l < L; ++l)
            for (UnitKind k : {UnitKind::Mlp, UnitKind::Attention}) {
                UnitMask m = UnitMask::dense(L);
                Unit{k, l}.applyTo(m);
                const double s = naiveScore(d, calib, m, ScoreKind::JsFinercut);
                if (s < best)
                    best = s, bestUnit = Unit{k, l};
            }
        QVERIFY(fc.steps[0].chosen.front() == bestUnit);
        QVERIFY(relClose(fc.steps[0].chosenScore, best));
    }
};

QTEST_GUILESS_MAIN(TestPrune)
#include "tst_prune.moc"
