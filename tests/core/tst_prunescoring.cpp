// How the pruning searches score at real vocabularies (pruning.md §5, issue 12): every score a
// slice of positions at a time, EvoPress's teacher in each format and under its budget, and SLEB's
// early stop with its lower bounds.
#include "eval/evaluation.h"
#include "prune/whatif.h"
#include "prunetesthelpers.h"
#include "testdata.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <QTest>

using namespace blockscope;
using namespace blockscope::prunetest;

class TestPruneScoring : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { at::set_num_threads(1); } // bit-identical reruns need a fixed thread count

    // No score holds [B, T, V]: the LM head runs a slice of positions at a time, and so does the
    // step evaluation. One position per slice gives the same choices and scores (to rounding) as
    // one slice for all, for every score and for the perplexity and KL of every step.
    void scoresInSlices_data()
    {
        QTest::addColumn<int>("method");
        QTest::addColumn<QString>("score");
        QTest::addRow("sleb") << int(PruneMethod::Sleb) << "";
        QTest::addRow("evopress, ppl fitness") << int(PruneMethod::EvoPress) << "ppl";
        QTest::addRow("evopress, kl fitness") << int(PruneMethod::EvoPress) << "kl";
        QTest::addRow("finercut js") << int(PruneMethod::FinerCut) << "js";
        QTest::addRow("finercut kl") << int(PruneMethod::FinerCut) << "kl";
        QTest::addRow("finercut norm") << int(PruneMethod::FinerCut) << "norm";
    }
    void scoresInSlices()
    {
        QFETCH(int, method);
        QFETCH(QString, score);
        auto d = tinyDecoder(6, 31);
        const WindowSet calib = randomWindows(4, 20, 32);
        const WindowSet eval = randomWindows(3, 20, 33);
        PruneOptions o = options(PruneMethod(method), method == int(PruneMethod::FinerCut) ? 4 : 2);
        o.evaluateSteps = true;
        if (!score.isEmpty()) {
            o.evoFitness = score.toStdString();
            o.finercutMetric = score.toStdString();
        }
        o.initialTokens = 32;
        o.stageTokens = {32, 64};
        o.offspring = 6;
        o.generations = 3;
        const auto whole = search(*d, calib, o, {}, &eval);
        CalibrationScorer::setSliceBytes(1); // one position per slice
        const auto sliced = search(*d, calib, o, {}, &eval);
        CalibrationScorer::setSliceBytes(128.0 * 1024 * 1024);
        compareTraces(whole.steps, sliced.steps, false);
        QVERIFY(relClose(whole.densePerplexity, sliced.densePerplexity, 1e-9));
        for (std::size_t i = 0; i < whole.steps.size(); ++i) {
            QVERIFY(relClose(whole.steps[i].chosenScore, sliced.steps[i].chosenScore, 1e-6));
            QVERIFY(relClose(whole.steps[i].perplexity, sliced.steps[i].perplexity, 1e-9));
            QVERIFY(relClose(whole.steps[i].klToDense, sliced.steps[i].klToDense, 1e-6));
            QVERIFY(whole.steps[i].klToDense > 0);
        }
    }

    // EvoPress's teacher (pruning.md §5) in float16 and bfloat16 is the float32 KL to rounding; a
    // top-K teacher is the KL over K+1 buckets: the full KL when K covers the vocabulary, a lower
    // bound below it that grows with K. The reference takes the bytes the budget counts.
    void teacherFormats()
    {
        const int V = 700;
        auto d = test::tinyDecoder({.layers = 4, .vocab = V}, 41);
        const WindowSet set = test::randomWindows(2, 24, 42, V);
        at::Tensor tokens = at::cat({tokensOf(set.windows[0]), tokensOf(set.windows[1])});
        const at::Tensor dense = d->forward(tokens, UnitMask::dense(4));
        UnitMask m = UnitMask::dense(4);
        m.skipAttn[1] = m.skipMlp[2] = true;
        const at::Tensor q = d->forward(tokens, m);
        const auto kl = [&](TeacherFormat f, int k = 0) {
            return scoreLogits(ScoreKind::KlEvopress, tokens, 1, dense, q, {f, k});
        };
        const double full = kl(TeacherFormat::Float32);
        // The float32 reference is the textbook KL(P‖Q) over positions 0..T-2.
        const at::Tensor logP = at::log_softmax(dense.narrow(1, 0, 23), -1).to(at::kDouble);
        const at::Tensor logQ = at::log_softmax(q.narrow(1, 0, 23), -1).to(at::kDouble);
        const double textbook = (logP.exp() * (logP - logQ)).sum().item<double>() / (2 * 23);
        QVERIFY2(relClose(full, textbook, 1e-5), qPrintable(QStringLiteral("%1 vs %2").arg(full).arg(textbook)));
        const double f16 = kl(TeacherFormat::Float16), bf16 = kl(TeacherFormat::BFloat16);
        const double all = kl(TeacherFormat::TopK, V), top512 = kl(TeacherFormat::TopK, 512);
        const double top64 = kl(TeacherFormat::TopK, 64);
        qInfo("KL: float32 %.9g float16 %.9g bfloat16 %.9g top-700 %.9g top-512 %.9g top-64 %.9g", full, f16, bf16, all,
            top512, top64);
        QVERIFY(f16 != full && bf16 != full); // the teacher really was rounded
        QVERIFY(relClose(f16, full, 1e-3));
        QVERIFY(relClose(bf16, full, 2e-2));
        QVERIFY(relClose(all, full, 1e-5));
        QVERIFY(top512 < full && top64 < top512 && top64 > 0);

        const TeacherRows half = makeTeacher(dense[0], {TeacherFormat::Float16});
        QCOMPARE(half.values.scalar_type(), at::kHalf);
        QCOMPARE(half.bytes(), std::int64_t(24 * V * 2));
        const TeacherRows top = makeTeacher(dense[0], {TeacherFormat::TopK, 512});
        QCOMPARE(top.bytes(), std::int64_t(24 * (513 * 4 + 512 * 4)));
        PruneOptions o = options(PruneMethod::EvoPress, 1);
        o.teacher = "top-k";
        QCOMPARE(double(top.bytes()), o.teacherBytes(24, V));
        o.teacher = "float16";
        QCOMPARE(double(half.bytes()), o.teacherBytes(24, V));
        // The kept tokens are the most likely ones; with the rest they make a distribution.
        const at::Tensor p0 = at::softmax(dense[0], -1);
        QCOMPARE(top.indices[3][0].item<int>(), int(p0[3].argmax().item<std::int64_t>()));
        QVERIFY(std::abs(top.values.exp().sum(-1).to(at::kDouble)[5].item<double>() - 1.0) < 1e-5);
    }

    // The whole search with each teacher: the same first minibatch and genomes, and every initial
    // genome's top-K fitness below its float32 one; a teacher over the budget is refused.
    void evoPressTeachers()
    {
        const int V = 700;
        auto d = test::tinyDecoder({.layers = 6, .vocab = V}, 43);
        const WindowSet calib = test::randomWindows(4, 20, 44, V);
        PruneOptions o = options(PruneMethod::EvoPress, 2);
        o.initialTokens = 40;
        o.stageTokens = {40, 80};
        o.offspring = 6;
        o.generations = 2;
        o.teacher = "float32";
        const auto f32 = search(*d, calib, o);
        o.teacher = "float16";
        const auto f16 = search(*d, calib, o);
        o.teacher = "top-k";
        const auto topK = search(*d, calib, o);
        const auto &a = f32.steps.front().evo.offspring, &b = f16.steps.front().evo.offspring,
                   &c = topK.steps.front().evo.offspring;
        QCOMPARE(a.size(), c.size());
        QVERIFY(!a.empty());
        for (std::size_t i = 0; i < a.size(); ++i) {
            QVERIFY(a[i].genome == c[i].genome && a[i].genome == b[i].genome);
            QVERIFY(relClose(a[i].stage1Fitness, b[i].stage1Fitness, 1e-3));
            QVERIFY2(c[i].stage1Fitness < a[i].stage1Fitness,
                qPrintable(QStringLiteral("%1 vs %2").arg(c[i].stage1Fitness).arg(a[i].stage1Fitness)));
        }
        o.teacher = "float16";
        o.teacherBudgetMiB = 80.0 * V * 2 / (1024 * 1024) * 0.99; // 80 calibration tokens, just over
        try {
            search(*d, calib, o);
            QFAIL("no exception");
        } catch (const UsageError &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains("\"teacher_budget_mib\""), e.what());
            QVERIFY2(QString::fromUtf8(e.what()).contains("80 calibration tokens"), e.what());
        }
        o.teacherBudgetMiB = 80.0 * V * 2 / (1024 * 1024) * 1.01;
        QCOMPARE(search(*d, calib, o).steps.size(), f16.steps.size());
    }

    // SLEB's early stop (an exact shortcut): the same chosen blocks, scores and near-tie flags as
    // a full run; every stopped candidate's lower bound is below its full score and above the
    // chosen score by more than a near tie; fewer tokens are run.
    void slebEarlyStop()
    {
        // Windows the model continues itself and a block that does nothing: that block's candidate
        // keeps the dense NLL, far below the others', as removing a real model's vital blocks does.
        auto d = tinyDecoder(8, 51, {3});
        const WindowSet calib = selfGeneratedWindows(*d, 6, 20, 52);
        PruneOptions o = options(PruneMethod::Sleb, 3);
        o.batch = 1; // one window per forward: a candidate can stop after any window
        const auto full = search(*d, calib, o);
        o.earlyStop = true;
        const auto fast = search(*d, calib, o);
        QCOMPARE(fast.steps.size(), full.steps.size());
        int stopped = 0, candidates = 0;
        for (std::size_t i = 0; i < full.steps.size(); ++i) {
            const TraceStep &a = full.steps[i], &b = fast.steps[i];
            QVERIFY(a.chosen == b.chosen);
            QCOMPARE(b.chosenScore, a.chosenScore);
            QCOMPARE(b.nearTie, a.nearTie);
            QCOMPARE(b.evaluations, a.evaluations);
            QCOMPARE(b.candidates.size(), a.candidates.size());
            for (std::size_t c = 0; c < a.candidates.size(); ++c) {
                const CandidateScore &x = a.candidates[c], &y = b.candidates[c];
                ++candidates;
                QVERIFY(x.unit == y.unit && !x.lowerBound);
                if (!y.lowerBound) {
                    QCOMPARE(y.score, x.score);
                    continue;
                }
                ++stopped;
                QVERIFY(y.score <= x.score);
                QVERIFY(y.score > b.chosenScore && !nearTie(y.score, b.chosenScore));
                QVERIFY(!nearTie(x.score, b.chosenScore));
            }
        }
        qInfo("%d of %d candidates stopped early; tokens %lld against %lld", stopped, candidates,
            static_cast<long long>(fast.steps.back().tokens), static_cast<long long>(full.steps.back().tokens));
        QVERIFY(stopped > 0);
        QVERIFY(fast.steps.back().tokens < full.steps.back().tokens);
        // Ignored by the other methods, as every method-specific option is.
        PruneOptions f = options(PruneMethod::FinerCut, 2);
        f.earlyStop = true;
        for (const TraceStep &s : search(*d, calib, f).steps)
            for (const CandidateScore &c : s.candidates)
                QVERIFY(!c.lowerBound);
    }

    // The what-if answer keeps the dense model's final hidden states and runs the LM head a slice
    // of positions at a time (the app's what-if held [N, T, V] log-probabilities: 7 GB on a 49k
    // vocabulary). Sliced down to one position, it equals the evaluate command's perplexity and
    // KL, which hold whole logits.
    void whatIfInSlices()
    {
        BLOCKSCOPE_REQUIRE_DATA(text, QStringLiteral("text/tinyshakespeare.txt"));
        const std::string demo = (sourceDir() + QStringLiteral("/resources/demo-model")).toStdString();
        WhatIfEvaluator::Options o;
        o.modelPath = demo;
        o.textPath = text.toStdString();
        o.windows = 4;
        JobContext job;
        const auto whatIf = WhatIfEvaluator::create(o, job);
        UnitMask mask = UnitMask::dense(whatIf->layers());
        mask.skipAttn[1] = true;
        mask.skipMlp[2] = true;
        const double saved = CalibrationScorer::sliceBytes();
        CalibrationScorer::setSliceBytes(1); // one position a slice
        const WhatIfResult sliced = whatIf->evaluate(mask, job);
        CalibrationScorer::setSliceBytes(saved);
        const WhatIfResult whole = whatIf->evaluate(mask, job);

        EvaluationRequest r;
        r.modelPath = demo;
        r.textPath = o.textPath;
        r.maxWindows = o.windows;
        r.skipAttn = {1};
        r.skipMlp = {2};
        const EvaluationReport e = runEvaluation(r, job);
        QVERIFY(e.distance.has_value() && e.densePerplexity.has_value());
        qInfo("what-if PPL %.6f (sliced %.6f), evaluate %.6f; KL %.6f (sliced %.6f), evaluate %.6f", whole.perplexity,
            sliced.perplexity, e.perplexity.perplexity, whole.klToDense, sliced.klToDense, e.distance->klPerToken);
        QCOMPARE(whole.tokens, e.perplexity.scored);
        QVERIFY(std::abs(sliced.perplexity / whole.perplexity - 1) < 1e-6);
        QVERIFY(std::abs(sliced.klToDense - whole.klToDense) < 1e-6);
        QVERIFY(std::abs(whole.perplexity / e.perplexity.perplexity - 1) < 1e-5);
        QVERIFY(std::abs(whole.densePerplexity / e.densePerplexity->perplexity - 1) < 1e-5);
        QVERIFY(std::abs(whole.klToDense - e.distance->klPerToken) < 1e-5 * std::max(1.0, e.distance->klPerToken));
        QVERIFY(whole.klToDense > 0);
    }
};

QTEST_GUILESS_MAIN(TestPruneScoring)
#include "tst_prunescoring.moc"
