// SeerAttention gates against seerattention.md §10 items 5-14: pooling, the gate at B = 1, top-k
// density, the loss, a frozen base, feature-cache exactness, determinism, learning, checkpoints
// and the parameter formula; plus mask selection rules, mask statistics, resume and the sparse
// evaluation. (Items 1-4, the attention references, are in tst_sparseattention.)
#include "common/formaterror.h"
#include "eval/perplexity.h"
#include "eval/windows.h"
#include "jobs/jobcontext.h"
#include "jobs/sparsejobs.h"
#include "model/decoder.h"
#include "sparse/attentionkernels.h"
#include "sparse/attentionsnapshot.h"
#include "sparse/blockmask.h"
#include "sparse/gateimpl.h"
#include "testdata.h"
#include "tinymodel.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <QDir>
#include <QFile>
#include <QTest>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <filesystem>

using namespace blockscope;
using namespace blockscope::sparse;
using namespace blockscope::test;

namespace {

BlockGrid gridOf(std::initializer_list<std::initializer_list<float>> rows)
{
    BlockGrid g(static_cast<int>(rows.size()));
    int i = 0;
    for (const auto &r : rows) {
        int j = 0;
        for (float v : r)
            g.at(i, j++) = v;
        ++i;
    }
    return g;
}

double maxAbsDiff(const at::Tensor &a, const at::Tensor &b)
{
    return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

std::string tempPath(const QString &name)
{
    return (freshTempDir(QStringLiteral("gates")) + QLatin1Char('/') + name).toStdString();
}

GateTrainOptions quickOptions()
{
    GateTrainOptions o;
    o.blockSize = 4;
    o.steps = 12;
    o.batch = 3;
    o.warmup = 2;
    o.evalEvery = 5;
    return o;
}

} // namespace

class TestGates : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { at::set_num_threads(1); }

    // §10.5
    void pooling()
    {
        at::Tensor x = at::arange(1, 11, at::kFloat).view({1, 10, 1, 1}); // tokens 1..10, B = 4
        at::Tensor avg = avgPoolBlocks(x, 4).flatten();
        QCOMPARE(avg.size(0), 3);
        QCOMPARE(avg[0].item<float>(), 2.5f);
        QCOMPARE(avg[1].item<float>(), 6.5f);
        QCOMPARE(avg[2].item<float>(), 9.5f); // ragged block: (9 + 10) / 2, not / 4
        // K constant per channel group: [max, min, avg] land in that order.
        at::Tensor k = at::zeros({1, 3, 1, 2});
        k[0][0][0] = at::tensor({1.0f, -4.0f});
        k[0][1][0] = at::tensor({5.0f, -2.0f});
        k[0][2][0] = at::tensor({3.0f, -6.0f});
        at::Tensor p = maxMinAvgPoolBlocks(k, 4).flatten();
        const std::vector<float> want{5, -2, 1, -6, 3, -4};
        for (int i = 0; i < 6; ++i)
            QCOMPARE(p[i].item<float>(), want[static_cast<std::size_t>(i)]);
        // min = −max(−x) also over a ragged tail.
        at::Tensor r = at::randn({2, 7, 3, 4});
        at::Tensor mm = maxMinAvgPoolBlocks(r, 3);
        QCOMPARE(mm.sizes().vec(), (std::vector<std::int64_t>{2, 3, 3, 12}));
        QVERIFY(maxAbsDiff(mm.narrow(-1, 4, 4)[0][2], r[0][6]) == 0);
        QVERIFY(maxAbsDiff(mm.narrow(-1, 4, 4)[0][0], std::get<0>(r.narrow(1, 0, 3).min(1))[0]) == 0);
    }

    // §10.6: with B = 1, d_g = d, no W_q and W_k picking the avg slot, softmax(S) is the model's
    // own attention for every head, RoPE convention and GQA included.
    void gateEqualsAttentionAtBlockOne_data()
    {
        QTest::addColumn<int>("layout");
        QTest::addColumn<int>("kvHeads");
        QTest::newRow("rotate_half, GQA") << int(RopeLayout::RotateHalf) << 2;
        QTest::newRow("interleaved, GQA") << int(RopeLayout::Interleaved) << 2;
        QTest::newRow("rotate_half, MHA") << int(RopeLayout::RotateHalf) << 4;
    }
    void gateEqualsAttentionAtBlockOne()
    {
        QFETCH(int, layout);
        QFETCH(int, kvHeads);
        TinyShape shape{.layers = 2, .kvHeads = kvHeads, .rope = RopeLayout(layout)};
        auto decoder = tinyDecoder(shape, 5);
        GateSet gates = GateSet::create(*decoder, 1, 0);
        const std::int64_t d = shape.headDim;
        for (auto &l : gates.impl().layers) {
            l.wk = at::zeros({shape.heads, 3 * d, d});
            l.wk.narrow(1, 2 * d, d).copy_(at::eye(d).expand({shape.heads, d, d}));
        }
        c10::NoGradGuard noGrad;
        int checked = 0;
        ForwardCapture cap;
        cap.attentionHook = [&](const AttentionInputs &in) -> at::Tensor {
            at::Tensor S = gates.impl().logits(in); // [1, H, T, T]
            at::Tensor k = in.keys.repeat_interleave(shape.heads / kvHeads, 1);
            at::Tensor s = at::matmul(in.queries, k.transpose(-2, -1)) * in.scale;
            const auto T = s.size(-1);
            at::Tensor causal = at::ones({T, T}, at::kBool).triu(1);
            at::Tensor p = at::softmax(s.masked_fill(causal, -INFINITY), -1);
            const double diff = maxAbsDiff(at::softmax(S, -1), p);
            if (diff > 1e-5)
                qWarning() << "layer" << in.layer << "differs by" << diff;
            checked += diff <= 1e-5 ? 1 : -100;
            return {};
        };
        decoder->forward(tokensOf(randomWindows(1, 23, 3).windows[0]), UnitMask::dense(2), &cap);
        QCOMPARE(checked, 2);
    }

    // §10.7
    void topkDensity()
    {
        QCOMPARE(topkBlocksForDensity(1.0, 32), 32);
        QCOMPARE(topkBlocksForDensity(0.5, 32), 9); // floor((1 − √0.5)·32) = 9
        QCOMPARE(topkBlocksForDensity(0.001, 8), 1);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, topkBlocksForDensity(0.0, 8));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, topkBlocksForDensity(1.5, 8));
        const int nb = 1024;
        at::manual_seed(1);
        at::Tensor s = at::randn({nb, nb});
        const BlockGrid S = toGrid(s);
        const double triangle = nb * (nb + 1) / 2.0;
        for (double rho : {0.1, 0.2, 0.3, 0.5, 0.9}) {
            const BlockMask m = selectMask(S, {MaskRule::Kind::Density, rho, false, false, false});
            const double realised = static_cast<double>(m.count()) / triangle;
            QVERIFY2(
                std::abs(realised - rho) <= 0.002, qPrintable(QStringLiteral("ρ %1 gave %2").arg(rho).arg(realised)));
        }
        const BlockMask full = selectMask(S, {MaskRule::Kind::Density, 1.0, false, false, false});
        QCOMPARE(full.count(), static_cast<std::int64_t>(triangle));
        // Small grid: last two rows dense when enabled, nothing above the diagonal, no forced diagonal.
        const BlockGrid small = toGrid(at::randn({8, 8}));
        const BlockMask m = selectMask(small, {MaskRule::Kind::Density, 0.2, true, false, false});
        for (int I = 0; I < 8; ++I)
            for (int J = 0; J < 8; ++J) {
                if (J > I)
                    QCOMPARE(m.cell(I, J), MaskCell::Off);
                if (I >= 6 && J <= I)
                    QVERIFY(m.on(I, J));
            }
        const int k = topkBlocksForDensity(0.2, 8);
        int diagonalOff = 0;
        for (int I = 0; I < 6; ++I) {
            int on = 0;
            for (int J = 0; J <= I; ++J)
                on += m.on(I, J);
            QCOMPARE(on, std::min(k, I + 1));
            diagonalOff += !m.on(I, I);
        }
        Q_UNUSED(diagonalOff);
        // The diagonal is not forced: a row whose diagonal logit is lowest leaves it out.
        const BlockGrid low = gridOf({{0, 0, 0}, {5, 0, 0}, {5, 4, -9}});
        const BlockMask lm = selectMask(low, {MaskRule::Kind::Density, 0.5, false, false, false}); // k = 1
        QVERIFY(!lm.on(1, 1));
        QVERIFY(lm.on(1, 0));
        QVERIFY(!lm.on(2, 2));
    }

    void maskRules()
    {
        // Threshold: strict > on the row softmax; ties in top-k go to the lower J.
        const BlockGrid S = gridOf({{0, 0, 0}, {0, 0, 0}, {1, 1, 0}});
        const BlockMask t = selectMask(S, {MaskRule::Kind::Threshold, 0.5, false, false, false});
        QVERIFY(t.on(0, 0)); // p = 1 > 0.5
        QVERIFY(!t.on(1, 0) && !t.on(1, 1)); // p = 0.5 is not > 0.5
        QCOMPARE(t.count(), 1);
        const BlockMask k = selectMask(S, {MaskRule::Kind::Density, 0.5, false, false, false}); // k = 1
        QVERIFY(k.on(1, 0) && !k.on(1, 1));
        QVERIFY(k.on(2, 0) && !k.on(2, 1));
        // Forced cells are recorded apart from learned ones.
        const BlockMask f = selectMask(S, {MaskRule::Kind::Threshold, 0.9, true, true, true});
        QCOMPARE(f.cell(0, 0), MaskCell::Selected);
        QCOMPARE(f.cell(1, 1), MaskCell::Forced);
        QCOMPARE(f.cell(2, 2), MaskCell::Forced);
        QCOMPARE(f.cell(2, 1), MaskCell::Forced); // last-two-rows
        QVERIFY_THROWS_EXCEPTION(
            std::invalid_argument, selectMask(S, {MaskRule::Kind::Threshold, 1.0, false, false, false}));
        // Static pattern: first block plus a local window, at the asked density.
        const BlockMask st = staticMask(16, 0.3, false);
        const int kk = topkBlocksForDensity(0.3, 16);
        for (int I = 0; I < 16; ++I) {
            QVERIFY(st.on(I, 0) && st.on(I, I));
            int on = 0;
            for (int J = 0; J <= I; ++J)
                on += st.on(I, J);
            QCOMPARE(on, std::min(kk, I + 1)); // the same count per row as top-k
        }
        // Random masks: seeded, right row counts.
        const BlockMask r1 = randomMask(16, 0.3, 7, false), r2 = randomMask(16, 0.3, 7, false),
                        r3 = randomMask(16, 0.3, 8, false);
        QVERIFY(r1.cells == r2.cells);
        QVERIFY(r1.cells != r3.cells);
    }

    void maskStatistics()
    {
        // N = 6, B = 4: blocks of 4 and 2 tokens. Mask: (0,0) and (1,1).
        BlockMask m{2, {MaskCell::Selected, MaskCell::Off, MaskCell::Off, MaskCell::Forced}};
        std::vector<float> mass(6 * 2, 0.0f);
        for (int i = 0; i < 4; ++i)
            mass[static_cast<std::size_t>(i * 2)] = 1.0f; // block-0 queries: all mass in key block 0
        mass[4 * 2 + 0] = 0.25f, mass[4 * 2 + 1] = 0.75f;
        mass[5 * 2 + 0] = 0.5f, mass[5 * 2 + 1] = 0.5f;
        const MaskStats s = maskStats(m, 6, 4, mass, BlockGrid());
        QCOMPARE(s.tileDensity, 2.0 / 3.0);
        QCOMPARE(s.tileDensityLearned, 1.0 / 3.0);
        QCOMPARE(s.pairDensity, (10.0 + 3.0) / 21.0); // 4·5/2 + 2·3/2 causal pairs of 6·7/2
        QVERIFY(std::abs(s.recallMean - (4 + 0.75 + 0.5) / 6.0) < 1e-12);
        QCOMPARE(s.recallMin, 0.5);
        QCOMPARE(s.emptyRows, 0);
        BlockMask none{2, std::vector<MaskCell>(4, MaskCell::Off)};
        QCOMPARE(maskStats(none, 6, 4, mass, BlockGrid()).emptyRows, 6);
    }

    // §10.8: hand example, one head, nb = 4, off = 1.
    void loss()
    {
        at::Tensor S
            = at::tensor(std::vector<float>{0, 0, 0, 0, 1, 2, 0, 0, 0.5f, 0, -1, 0, 2, 1, 0, -2}).view({1, 1, 4, 4});
        const float lowest = std::numeric_limits<float>::lowest();
        for (int I = 0; I < 4; ++I)
            for (int J = I + 1; J < 4; ++J)
                S[0][0][I][J] = lowest;
        at::Tensor G
            = at::tensor(std::vector<float>{1, 0, 0, 0, 0.25f, 0.75f, 0, 0, 0.5f, 0, 0.5f, 0, 0.1f, 0.2f, 0.3f, 0.4f})
                  .view({1, 1, 4, 4});
        S.requires_grad_(true);
        at::Tensor L = gateDistillationLoss(S, G);
        // By hand: rows 1..3, Σ_J y(log y − log_softmax), divided by b·H·(nb − off)·nb = 12.
        double want = 0;
        const double rows[3][4] = {{1, 2, 0, 0}, {0.5, 0, -1, 0}, {2, 1, 0, -2}};
        const double ys[3][4] = {{0.25, 0.75, 0, 0}, {0.5, 0, 0.5, 0}, {0.1, 0.2, 0.3, 0.4}};
        for (int r = 0; r < 3; ++r) {
            const int valid = r + 2;
            double lse = 0;
            for (int j = 0; j < valid; ++j)
                lse += std::exp(rows[r][j]);
            lse = std::log(lse);
            for (int j = 0; j < valid; ++j)
                if (ys[r][j] > 0)
                    want += ys[r][j] * (std::log(ys[r][j]) - (rows[r][j] - lse));
        }
        want /= 12.0;
        QVERIFY2(std::abs(L.item<double>() - want) < 1e-6, qPrintable(QString::number(L.item<double>() - want)));
        torch::autograd::backward({L});
        QVERIFY(std::isfinite(L.item<double>()));
        QVERIFY(at::isfinite(S.grad()).all().item<bool>());
        QCOMPARE(S.grad()[0][0][0].abs().sum().item<float>(), 0.0f); // the dropped first quarter
        QVERIFY(S.grad()[0][0][1].abs().sum().item<float>() > 0);
    }

    // §10.14
    void parameterFormula()
    {
        GateConfig llama;
        llama.layers = 32, llama.qHeads = 32, llama.kvHeads = 8, llama.headDim = 128, llama.gateDim = 128;
        QCOMPARE(gateParameterCount(llama), std::int64_t(50331648));
        GateConfig qwen;
        qwen.layers = 28, qwen.qHeads = 28, qwen.kvHeads = 4, qwen.headDim = 128, qwen.gateDim = 128;
        QCOMPARE(gateParameterCount(qwen), std::int64_t(38535168));
        auto decoder = tinyDecoder({.layers = 3}, 1);
        GateSet g = GateSet::create(*decoder, 4, 0);
        QCOMPARE(g.parameterCount(), std::int64_t(3 * 4 * 24 * 8));
        QCOMPARE(g.impl().layers[0].wk.sizes().vec(), (std::vector<std::int64_t>{4, 24, 8}));
        QVERIFY(!g.impl().layers[0].wq.defined());
        const double sd = g.impl().layers[0].wk.std().item<double>();
        QVERIFY(sd > 0.015 && sd < 0.025); // N(0, 0.02)
    }

    // §10.13
    void checkpoint()
    {
        auto decoder = tinyDecoder({.layers = 3}, 1);
        GateSet g = GateSet::create(*decoder, 4, 3);
        const std::string path = tempPath(QStringLiteral("g.seergate.safetensors"));
        g.save(path);
        GateSet back = GateSet::load(path, *decoder);
        for (std::size_t l = 0; l < 3; ++l)
            QVERIFY(at::equal(back.impl().layers[l].wk, g.impl().layers[l].wk));
        QCOMPARE(back.config().blockSize, 4);
        QCOMPARE(back.config().baseFingerprint, modelFingerprint(*decoder));
        QCOMPARE(GateSet::readConfig(path).qHeads, 4);
        // The settings beside the weights, as JSON.
        QFile sidecar(QString::fromStdString(path).replace(QStringLiteral(".safetensors"), QStringLiteral(".json")));
        QVERIFY(sidecar.open(QIODevice::ReadOnly));
        const QByteArray settings = sidecar.readAll();
        QVERIFY2(settings.contains("\"block_size\": \"4\"") && settings.contains("blockscope.seergate"),
            settings.constData());
        auto expectMismatch = [&](const Decoder &other, const std::string &field) {
            try {
                GateSet::load(path, other);
                QFAIL("loaded gates for another model");
            } catch (const GateMismatch &e) {
                QVERIFY2(e.field().find(field) != std::string::npos, e.what());
                QVERIFY2(std::string(e.what()).find(path) != std::string::npos, e.what());
            }
        };
        expectMismatch(*tinyDecoder({.layers = 3, .heads = 8, .kvHeads = 2, .headDim = 4}, 1), "num_q_heads");
        expectMismatch(*tinyDecoder({.layers = 3, .hidden = 48, .heads = 4, .headDim = 12}, 1), "head_dim");
        expectMismatch(*tinyDecoder({.layers = 2}, 1), "num_layers");
        expectMismatch(*tinyDecoder({.layers = 3, .intermediate = 48}, 1), "base_fingerprint");
        expectMismatch(*tinyDecoder({.layers = 3, .rope = RopeLayout::Interleaved}, 1), "rope_convention");
        // Not a gate file at all: a model's safetensors.
        QVERIFY_THROWS_EXCEPTION(
            GateMismatch, GateSet::readConfig(sourceDir().toStdString() + "/resources/demo-model/model.safetensors"));
        // A truncated file is a FormatError naming it.
        QFile::copy(QString::fromStdString(path), QString::fromStdString(path + ".cut"));
        QFile cut(QString::fromStdString(path + ".cut"));
        QVERIFY(cut.resize(cut.size() - 10));
        QVERIFY_THROWS_EXCEPTION(FormatError, GateSet::load(path + ".cut", *decoder));
    }

    // §10.9, §10.11 and resume.
    void trainingIsDeterministicFrozenAndResumable()
    {
        auto decoder = tinyDecoder({.layers = 2}, 2);
        const auto before = decoder->namedWeights();
        std::map<std::string, at::Tensor> frozen;
        for (const auto &[n, t] : before)
            frozen[n] = t.clone();
        const WindowSet calib = randomWindows(7, 18, 3), held = randomWindows(3, 18, 4);
        auto train = [&](const std::string &out, bool resume, JobContext &job) {
            GateTrainRequest r;
            r.decoder = decoder.get();
            r.calibration = &calib;
            r.heldOut = &held;
            r.options = quickOptions();
            r.outPath = out;
            r.resume = resume;
            return trainGates(r, job);
        };
        JobContext plain;
        const std::string a = tempPath(QStringLiteral("a.seergate.safetensors"));
        const std::string b = tempPath(QStringLiteral("b.seergate.safetensors"));
        const GateTrainResult ra = train(a, false, plain);
        const GateTrainResult rb = train(b, false, plain);
        QCOMPARE(ra.steps.size(), std::size_t(12));
        for (std::size_t s = 0; s < ra.steps.size(); ++s)
            QCOMPARE(ra.steps[s].loss, rb.steps[s].loss);
        const GateSet ga = GateSet::load(a, *decoder), gb = GateSet::load(b, *decoder);
        for (std::size_t l = 0; l < 2; ++l)
            QVERIFY(at::equal(ga.impl().layers[l].wk, gb.impl().layers[l].wk));
        // Training changed the gates and nothing of the base.
        const GateSet init = GateSet::create(*decoder, 4, 0);
        QVERIFY(!at::equal(ga.impl().layers[0].wk, init.impl().layers[0].wk));
        for (const auto &[n, t] : decoder->namedWeights())
            QVERIFY2(at::equal(t, frozen[n]), n.c_str());
        // Evaluations at 0, 5, 10 and the end.
        QCOMPARE(ra.evals.size(), std::size_t(4));

        // Cancel after step 6, then resume: the same weights and losses as the uninterrupted run.
        const std::string c = tempPath(QStringLiteral("c.seergate.safetensors"));
        std::stop_source stop;
        JobContext cancellable(stop.get_token());
        GateTrainRequest r;
        bool threw = false;
        try {
            GateTrainRequest req;
            req.decoder = decoder.get();
            req.calibration = &calib;
            req.heldOut = &held;
            req.options = quickOptions();
            req.outPath = c;
            req.onStep = [&](const GateTrainStep &s) {
                if (s.step == 6)
                    stop.request_stop();
            };
            trainGates(req, cancellable);
        } catch (const JobCancelled &) {
            threw = true;
        }
        QVERIFY(threw);
        QVERIFY(std::filesystem::exists(c + ".trainstate.safetensors"));
        // The state as it was when cancelled, kept to pair it with later weights below.
        const std::string state = c + ".trainstate.safetensors";
        std::filesystem::copy_file(state, state + ".at-cancel");
        const GateTrainResult rc = train(c, true, plain);
        QVERIFY(rc.resumed);
        QCOMPARE(rc.steps.size(), std::size_t(12));
        for (std::size_t s = 0; s < rc.steps.size(); ++s)
            QCOMPARE(rc.steps[s].loss, ra.steps[s].loss);
        const GateSet gc = GateSet::load(c, *decoder);
        for (std::size_t l = 0; l < 2; ++l)
            QVERIFY(at::equal(gc.impl().layers[l].wk, ga.impl().layers[l].wk));
        // Weights of the finished run beside the state of the cancelled one (a run killed between
        // writing the two): resuming would replay steps on weights that hold them, so it is refused,
        // naming the gate file and the field, and both files stay as they were.
        std::filesystem::copy_file(state + ".at-cancel", state, std::filesystem::copy_options::overwrite_existing);
        const auto gatesBefore = std::filesystem::last_write_time(c);
        try {
            train(c, true, plain);
            QFAIL("a gate file and a training state of different steps were resumed");
        } catch (const GateMismatch &e) {
            const std::string why = e.what();
            QVERIFY2(why.find(c) != std::string::npos && why.find("steps_done") != std::string::npos, why.c_str());
        }
        QVERIFY(std::filesystem::last_write_time(c) == gatesBefore);
        // Resuming with another block size is refused.
        GateTrainRequest wrong;
        wrong.decoder = decoder.get();
        wrong.calibration = &calib;
        wrong.options = quickOptions();
        wrong.options.blockSize = 8;
        wrong.outPath = c;
        wrong.resume = true;
        QVERIFY_THROWS_EXCEPTION(GateMismatch, trainGates(wrong, plain));
    }

    // §10.10: one optimiser step from the cache equals one step computed by running the model.
    void featureCacheIsExact()
    {
        auto decoder = tinyDecoder({.layers = 2}, 4);
        const WindowSet calib = randomWindows(2, 21, 5);
        GateTrainOptions o = quickOptions();
        o.steps = 1;
        o.batch = 2;
        o.warmup = 0;
        o.evalEvery = 0;
        const std::string out = tempPath(QStringLiteral("one.seergate.safetensors"));
        GateTrainRequest r;
        r.decoder = decoder.get();
        r.calibration = &calib;
        r.options = o;
        r.outPath = out;
        JobContext job;
        trainGates(r, job);
        const GateSet cached = GateSet::load(out, *decoder);

        // By running the model: the batch of step 0 holds both windows; the loss is the same sum.
        GateSet live = GateSet::create(*decoder, o.blockSize, o.seed);
        for (auto &l : live.impl().layers)
            l.wk.set_requires_grad(true);
        at::Tensor total;
        ForwardCapture cap;
        cap.attentionHook = [&](const AttentionInputs &in) -> at::Tensor {
            at::Tensor S = live.impl().logits(in);
            at::Tensor truth;
            {
                c10::NoGradGuard g;
                truth = blockAttentionMaps(in.queries, in.keys, in.values, o.blockSize, in.scale).truth;
            }
            at::Tensor l = gateDistillationLoss(S, truth);
            total = total.defined() ? total + l : l;
            return {};
        };
        at::Tensor tokens = at::cat({tokensOf(calib.windows[0]), tokensOf(calib.windows[1])});
        decoder->forward(tokens, UnitMask::dense(2), &cap);
        torch::autograd::backward({total * o.lossScale});
        for (std::size_t l = 0; l < 2; ++l) {
            // AdamW's first step: p − lr·g/(|g| + eps) (bias corrections cancel).
            at::Tensor w = live.impl().layers[l].wk.detach();
            at::Tensor g = live.impl().layers[l].wk.grad();
            at::Tensor expect = w - o.lr * g / (g.abs() + o.eps);
            const double diff = maxAbsDiff(expect, cached.impl().layers[l].wk);
            QVERIFY2(diff <= 1e-6, qPrintable(QString::number(diff)));
        }
    }

    void sparseEvaluation()
    {
        auto decoder = tinyDecoder({.layers = 2}, 6);
        const WindowSet set = randomWindows(3, 20, 7);
        GateSet g = GateSet::create(*decoder, 4, 1);
        // Density 1: every causal tile, so the model is exactly dense.
        const SparseEvalResult full
            = evaluateSparse(*decoder, set, &g, {MaskRule::Kind::Density, 1.0, true, false, false});
        QVERIFY(std::abs(full.perplexity - full.densePerplexity) < 1e-4 * full.densePerplexity);
        QCOMPARE(full.mean.tileDensity, 1.0);
        QVERIFY(std::abs(full.mean.recallMean - 1.0) < 1e-5);
        const SparseEvalResult half
            = evaluateSparse(*decoder, set, &g, {MaskRule::Kind::Density, 0.3, false, false, false});
        QVERIFY(half.mean.tileDensity < 0.6);
        QVERIFY(half.mean.recallMean < 1.0);
        QVERIFY(half.perplexity != full.perplexity);
        QCOMPARE(half.layers.size(), std::size_t(2));
        // The oracle (top-k of the true map) keeps more mass than a random mask.
        const MaskRule rule{MaskRule::Kind::Density, 0.3, false, false, false};
        const double oracle = evaluateSparse(*decoder, set, nullptr, rule, nullptr, MaskSource::Oracle).mean.recallMean;
        const double random = evaluateSparse(*decoder, set, &g, rule, nullptr, MaskSource::Random, 3).mean.recallMean;
        QVERIFY2(oracle > random, qPrintable(QStringLiteral("%1 vs %2").arg(oracle).arg(random)));
    }

    // The oracle's rows are probabilities already: a threshold keeps exactly the tiles whose true
    // mass is above it (not the tiles of a softmax of probabilities, which keeps every tile at
    // τ = 0.002 and none at τ = 0.2), and top-k keeps the largest. The page, the CLI and the
    // sweep all select through headMask.
    void oracleMasksThresholdTheTruth()
    {
        const int nb = 6;
        BlockGrid truth(nb);
        for (int I = 0; I < nb; ++I) {
            double sum = 0;
            for (int J = 0; J <= I; ++J)
                sum += std::pow(0.1, J == I ? 0 : J + 1);
            for (int J = 0; J <= I; ++J)
                truth.at(I, J) = static_cast<float>(std::pow(0.1, J == I ? 0 : J + 1) / sum);
        }
        for (double tau : {0.002, 0.05, 0.2}) {
            const MaskRule rule{MaskRule::Kind::Threshold, tau, false, false, false};
            const BlockMask m = headMask(MaskSource::Oracle, {.truth = &truth, .nb = nb}, rule);
            for (int I = 0; I < nb; ++I)
                for (int J = 0; J <= I; ++J)
                    QVERIFY2(m.on(I, J) == (truth.at(I, J) > tau),
                        qPrintable(QStringLiteral("tau %1 cell %2,%3").arg(tau).arg(I).arg(J)));
        }
        // τ = 0.002 keeps 15 of the 21 causal tiles here: a row's blocks two or more before the
        // diagonal's neighbour hold 10^-3 of it and less (a softmax of these probabilities kept all 21).
        const BlockMask low
            = headMask(MaskSource::Oracle, {.truth = &truth, .nb = nb}, {MaskRule::Kind::Threshold, 0.002, false});
        QCOMPARE(low.count(), std::int64_t(15));
        // Top-k of the truth: the diagonal and the first key block, the two largest of each row.
        const BlockMask top = headMask(MaskSource::Oracle, {.truth = &truth, .nb = nb},
            {MaskRule::Kind::Density, 1 - std::pow(1 - 2.5 / nb, 2), false});
        for (int I = 1; I < nb; ++I)
            QVERIFY(top.on(I, I) && top.on(I, 0) && (I < 2 || !top.on(I, 1)));
        // What a source lacks is named.
        QVERIFY_THROWS_EXCEPTION(
            std::invalid_argument, headMask(MaskSource::Gates, {.nb = nb}, {MaskRule::Kind::Density, 0.5}));
        QVERIFY_THROWS_EXCEPTION(
            std::invalid_argument, headMask(MaskSource::Static, {.nb = nb}, {MaskRule::Kind::Threshold, 0.1}));
        QCOMPARE(maskSourceFromName("oracle"), std::optional<MaskSource>(MaskSource::Oracle));
        QVERIFY(!maskSourceFromName("truth"));
        // Over heads: means, worst of the worst, empty rows summed.
        MaskStats a, b;
        a.tileDensity = 0.2;
        b.tileDensity = 0.4;
        a.recallMin = 0.5;
        b.recallMin = 0.25;
        a.emptyRows = 1;
        b.emptyRows = 2;
        const MaskStats mean = meanOverHeads({a, b});
        QVERIFY(std::abs(mean.tileDensity - 0.3) < 1e-12);
        QCOMPARE(mean.recallMin, 0.25);
        QCOMPARE(mean.emptyRows, std::int64_t(3));
    }

    // A sliding-window model whose window is shorter than the sequences is refused by gate training,
    // sparse evaluation and the attention map; a window longer than them changes nothing.
    void slidingWindowModelsAreRefused()
    {
        Architecture a = tinyArchitecture({.layers = 2});
        a.slidingWindow = 8;
        Decoder windowed(a, tinyWeights({.layers = 2}, 10));
        const WindowSet set = randomWindows(2, 18, 11);
        GateSet g = GateSet::create(windowed, 4, 1);
        try {
            evaluateSparse(windowed, set, &g, {MaskRule::Kind::Density, 0.5});
            QFAIL("a sliding-window model was evaluated with block-sparse attention");
        } catch (const UsageError &e) {
            QVERIFY2(std::string(e.what()).find("sliding window of 8") != std::string::npos, e.what());
        }
        GateTrainRequest r;
        r.decoder = &windowed;
        r.calibration = &set;
        r.options = quickOptions();
        r.outPath = tempPath(QStringLiteral("windowed.seergate.safetensors"));
        JobContext job;
        QVERIFY_THROWS_EXCEPTION(UsageError, trainGates(r, job));
        QVERIFY(!std::filesystem::exists(r.outPath));
        std::vector<std::int64_t> tokens(12, 3);
        std::vector<std::string> texts(12, "t");
        QVERIFY_THROWS_EXCEPTION(UsageError, computeAttentionSnapshot(windowed, tokens, texts, 0, &g, {}));
        // Within the window the model is the full-attention one, and it runs.
        a.slidingWindow = 64;
        Decoder wide(a, tinyWeights({.layers = 2}, 10));
        QVERIFY(evaluateSparse(wide, set, &g, {MaskRule::Kind::Density, 1.0}).perplexity > 0);
    }

    void snapshot()
    {
        auto decoder = tinyDecoder({.layers = 2}, 8);
        GateSet g = GateSet::create(*decoder, 4, 1);
        const TokenWindow w = randomWindows(1, 19, 9).windows[0];
        std::vector<std::int64_t> tokens(w.ids.begin(), w.ids.end());
        std::vector<std::string> texts(tokens.size(), "t");
        SnapshotOptions o;
        const LayerAttentionSnapshot s = computeAttentionSnapshot(*decoder, tokens, texts, 1, &g, o);
        QCOMPARE(s.nb, 5);
        QCOMPARE(s.heads.size(), std::size_t(4));
        QVERIFY(s.hasGates);
        for (const auto &h : s.heads) {
            for (int I = 0; I < s.nb; ++I) {
                double row = 0, probs = 0;
                for (int J = 0; J < s.nb; ++J) {
                    row += h.truth.at(I, J);
                    probs += h.gateProbs.at(I, J);
                    if (J > I)
                        QCOMPARE(h.truth.at(I, J), 0.0f);
                }
                QVERIFY(std::abs(row - 1) < 1e-5);
                QVERIFY(std::abs(probs - 1) < 1e-5);
            }
            QCOMPARE(h.tokenProbs.size(), std::size_t(19 * 19));
            QCOMPARE(h.tokenMass.size(), std::size_t(19 * 5));
            // A full mask keeps all the mass.
            const BlockMask all = selectMask(h.gateLogits, {MaskRule::Kind::Density, 1.0, false, false, false});
            QVERIFY(std::abs(maskStats(all, 19, 4, h.tokenMass, h.blockMass).recallMean - 1) < 1e-5);
            QVERIFY(std::abs(maskStats(all, 19, 4, {}, h.blockMass).recallMean - 1) < 1e-5);
        }
        QVERIFY_THROWS_EXCEPTION(UsageError, computeAttentionSnapshot(*decoder, tokens, texts, 2, &g, o));
        QVERIFY_THROWS_EXCEPTION(UsageError, computeAttentionSnapshot(*decoder, {}, {}, 0, &g, o));
    }

    // §10.12 on stories260K: the tiny recipe (B 16, 300 steps of 8 windows) learns: held-out KL
    // falls and recall at ρ = 0.5 beats the static pattern and a random mask of the same density.
    void learningHappensOnStories()
    {
        BLOCKSCOPE_REQUIRE_DATA(model, QStringLiteral("models/stories260K/stories260K.bin"));
        BLOCKSCOPE_REQUIRE_DATA(text, QStringLiteral("text/tinystories_valid_head.txt"));
        GateTrainJob job;
        job.modelPath = model.toStdString();
        job.calibPath = text.toStdString();
        job.outPath = tempPath(QStringLiteral("stories.seergate.safetensors"));
        job.heldOutWindows = 8;
        job.options.evalEvery = 0;
        JobContext ctx;
        const GateTrainResult r = runGateTrainJob(job, ctx);
        QCOMPARE(r.evals.size(), std::size_t(2));
        const GateEvalPoint &first = r.evals.front(), &last = r.evals.back();
        qInfo("held-out KL %.5f -> %.5f; recall@0.5 %.4f -> %.4f (static %.4f, random %.4f)", first.kl, last.kl,
            first.recallAtDensity, last.recallAtDensity, last.recallStaticAtDensity, last.recallRandomAtDensity);
        QVERIFY(last.kl < first.kl);
        QVERIFY(last.recallAtDensity > last.recallStaticAtDensity);
        QVERIFY(last.recallAtDensity > last.recallRandomAtDensity);
        QVERIFY(last.recallAtDensity > first.recallAtDensity);
    }
};

QTEST_GUILESS_MAIN(TestGates)
#include "tst_gates.moc"
