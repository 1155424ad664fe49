// The CUDA block-sparse attention and ground-truth kernels against the CPU references
// (core/sparse/attentionkernels.cpp, checked in tst_sparseattention) on shapes with ragged tails
// and GQA, in float32, float16 and bfloat16 (seerattention.md §10 item 15). The references run in
// float64 on the same rounded inputs. Timings are reported, not asserted.
#include "common/device.h"
#include "sparse/attentionkernels.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <QTest>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <vector>

using namespace blockscope;
using namespace blockscope::sparse;

namespace {

struct Case
{
    at::Tensor q, k, v; // on the GPU, in the tested dtype
    at::Tensor q64, k64, v64; // the same values on the CPU in float64
    double scale = 0;
};

Case makeCase(std::int64_t batch, std::int64_t N, std::int64_t Hq, std::int64_t Hkv, std::int64_t d,
    at::ScalarType dtype, std::uint64_t seed)
{
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    const auto opts = at::TensorOptions().dtype(at::kDouble);
    Case c;
    c.q64 = at::randn({batch, Hq, N, d}, gen, opts).to(dtype).to(at::kDouble);
    c.k64 = at::randn({batch, Hkv, N, d}, gen, opts).to(dtype).to(at::kDouble);
    c.v64 = at::randn({batch, Hkv, N, d}, gen, opts).to(dtype).to(at::kDouble);
    c.q = c.q64.to(dtype).to(at::kCUDA);
    c.k = c.k64.to(dtype).to(at::kCUDA);
    c.v = c.v64.to(dtype).to(at::kCUDA);
    c.scale = 1.0 / std::sqrt(static_cast<double>(d));
    return c;
}

at::Tensor randomBlockMask(std::int64_t batch, std::int64_t Hq, std::int64_t nb, std::uint64_t seed)
{
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    at::Tensor mask = at::rand({batch, Hq, nb, nb}, gen, at::TensorOptions().dtype(at::kDouble)) < 0.5;
    if (nb > 1)
        mask[0][0][1].fill_(false); // head 0: one query block with no key at all
    return mask;
}

// Output tolerance: 1e-5 in float32; 2e-3 plus one rounding step of the output dtype in half types.
bool outputClose(const at::Tensor &gpu, const at::Tensor &ref, at::ScalarType dtype, double *worst = nullptr)
{
    const at::Tensor g = gpu.cpu().to(at::kDouble);
    const at::Tensor r = ref.to(at::kDouble);
    const double ulp = dtype == at::kBFloat16 ? 1.0 / 256 : (dtype == at::kHalf ? 1.0 / 2048 : 1e-6);
    const double absTol = dtype == at::kFloat ? 1e-5 : 2e-3;
    const at::Tensor excess = (g - r).abs() - (absTol + ulp * r.abs());
    if (worst)
        *worst = (g - r).abs().max().item<double>();
    return excess.max().item<double>() <= 0.0;
}

double maxAbsDiff(const at::Tensor &a, const at::Tensor &b)
{
    return (a.cpu().to(at::kDouble) - b.cpu().to(at::kDouble)).abs().max().item<double>();
}

double medianMs(const std::function<at::Tensor()> &f, int warmups, int runs)
{
    for (int i = 0; i < warmups; ++i)
        f();
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        (void)f().sum().item<double>(); // waits for the work on the current stream
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

QString errorOf(const std::function<void()> &f)
{
    try {
        f();
    } catch (const std::invalid_argument &e) {
        return QString::fromUtf8(e.what());
    }
    return QStringLiteral("<no std::invalid_argument>");
}

const char *dtypeName(at::ScalarType t)
{
    return t == at::kFloat ? "f32" : (t == at::kHalf ? "f16" : "bf16");
}

} // namespace

class TestSparseGpu : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        if (!cudaAvailable())
            QSKIP(qPrintable(QStringLiteral("no CUDA device: %1").arg(QString::fromStdString(deviceSummary()))));
        QVERIFY(sparseKernelsCompiled());
    }

    void matchesCpu_data()
    {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<int>("batch");
        QTest::addColumn<int>("tokens");
        QTest::addColumn<int>("blockSize");
        QTest::addColumn<int>("qHeads");
        QTest::addColumn<int>("kvHeads");
        QTest::addColumn<int>("headDim");
        const std::pair<int, int> heads[] = {{4, 4}, {8, 4}, {8, 1}};
        for (const at::ScalarType t : {at::kFloat, at::kHalf, at::kBFloat16}) {
            for (const int B : {16, 32, 64}) {
                for (const int N : {1, B - 1, B, 3 * B + 5, 512}) {
                    for (const auto &[hq, hkv] : heads) {
                        const QByteArray name = QByteArray(dtypeName(t)) + " N=" + QByteArray::number(N)
                            + " B=" + QByteArray::number(B) + " H=" + QByteArray::number(hq) + "/"
                            + QByteArray::number(hkv) + " d=64";
                        QTest::newRow(name.constData()) << int(t) << 1 << N << B << hq << hkv << 64;
                    }
                }
            }
            for (const int d : {8, 20, 128}) {
                const QByteArray name = QByteArray(dtypeName(t)) + " N=197 B=64 H=8/4 d=" + QByteArray::number(d);
                QTest::newRow(name.constData()) << int(t) << 1 << 197 << 64 << 8 << 4 << d;
            }
            QTest::newRow((QByteArray(dtypeName(t)) + " batch 2 N=300 B=32 H=8/2 d=32").constData())
                << int(t) << 2 << 300 << 32 << 8 << 2 << 32;
        }
    }

    void matchesCpu()
    {
        QFETCH(int, dtype);
        QFETCH(int, batch);
        QFETCH(int, tokens);
        QFETCH(int, blockSize);
        QFETCH(int, qHeads);
        QFETCH(int, kvHeads);
        QFETCH(int, headDim);
        const auto type = static_cast<at::ScalarType>(dtype);
        const std::int64_t nb = (tokens + blockSize - 1) / blockSize;
        const Case c = makeCase(batch, tokens, qHeads, kvHeads, headDim, type, 17 * tokens + headDim);

        // §10.2 arbitrary mask, with an empty query block; bitmask and index lists.
        const at::Tensor mask = randomBlockMask(batch, qHeads, nb, 5 + tokens);
        const SparseAttentionResult cpu = blockSparseAttention(c.q64, c.k64, c.v64, mask, blockSize, c.scale);
        const SparseAttentionResult gpu = blockSparseAttention(c.q, c.k, c.v, mask.to(at::kCUDA), blockSize, c.scale);
        QCOMPARE(gpu.output.scalar_type(), type);
        QVERIFY(gpu.output.is_cuda());
        double worst = 0;
        QVERIFY2(outputClose(gpu.output, cpu.output, type, &worst), qPrintable(QString::number(worst)));
        QCOMPARE(gpu.emptyRows, cpu.emptyRows);
        const at::Tensor finite = cpu.lse.isfinite();
        QVERIFY(at::equal(gpu.lse.cpu().isfinite(), finite));
        QVERIFY(maxAbsDiff(gpu.lse.cpu().masked_select(finite), cpu.lse.masked_select(finite)) <= 1e-4);
        const SparseAttentionResult indexed
            = blockSparseAttentionIndexed(c.q, c.k, c.v, maskToIndexLists(mask.to(at::kCUDA)), blockSize, c.scale);
        QVERIFY(at::equal(indexed.output, gpu.output));
        QVERIFY(at::equal(indexed.lse, gpu.lse));

        // §10.1 all-ones mask = dense causal attention.
        const at::Tensor ones = at::ones({batch, qHeads, nb, nb}, at::kBool);
        const SparseAttentionResult dense = blockSparseAttention(c.q, c.k, c.v, ones.to(at::kCUDA), blockSize, c.scale);
        const SparseAttentionResult denseCpu = blockSparseAttention(c.q64, c.k64, c.v64, ones, blockSize, c.scale);
        QVERIFY2(outputClose(dense.output, denseCpu.output, type, &worst), qPrintable(QString::number(worst)));
        QCOMPARE(dense.emptyRows, std::int64_t(0));

        // §10.3/4 ground truth, mass and dense output of the block-max pass.
        const BlockAttentionMaps mapsCpu = blockAttentionMaps(c.q64, c.k64, c.v64, blockSize, c.scale, true, true);
        const BlockAttentionMaps maps = blockAttentionMaps(c.q, c.k, c.v, blockSize, c.scale, true, true);
        QVERIFY2(maxAbsDiff(maps.truth, mapsCpu.truth) <= 1e-5,
            qPrintable(QString::number(maxAbsDiff(maps.truth, mapsCpu.truth))));
        QVERIFY(maxAbsDiff(maps.blockMax, mapsCpu.blockMax) <= 1e-5);
        QVERIFY2(maxAbsDiff(maps.mass, mapsCpu.mass) <= 1e-5,
            qPrintable(QString::number(maxAbsDiff(maps.mass, mapsCpu.mass))));
        QVERIFY(outputClose(maps.output, mapsCpu.output, type));
        const BlockAttentionMaps bare = blockAttentionMaps(c.q, c.k, c.v, blockSize, c.scale);
        QVERIFY(at::equal(bare.truth, maps.truth));
        QVERIFY(!bare.mass.defined() && !bare.output.defined());

        // §7 one-pass recall.
        const at::Tensor recall = attentionMassRecall(c.q, c.k, mask.to(at::kCUDA), blockSize, c.scale);
        const at::Tensor recallCpu = attentionMassRecall(c.q64, c.k64, mask, blockSize, c.scale);
        QVERIFY2(maxAbsDiff(recall, recallCpu) <= 1e-5, qPrintable(QString::number(maxAbsDiff(recall, recallCpu))));
    }

    void bf16Parity_data()
    {
        QTest::addColumn<int>("tokens");
        QTest::addColumn<int>("blockSize");
        QTest::newRow("N=512 B=64") << 512 << 64;
        QTest::newRow("N=533 B=16") << 533 << 16;
    }

    void bf16Parity()
    {
        QFETCH(int, tokens);
        QFETCH(int, blockSize);
        const Case c = makeCase(1, tokens, 8, 4, 64, at::kBFloat16, 23);
        const BlockAttentionMaps ref = blockAttentionMaps(c.q64, c.k64, c.v64, blockSize, c.scale);
        const BlockAttentionMaps parity
            = blockAttentionMaps(c.q, c.k, c.v, blockSize, c.scale, false, false, /*bf16Parity=*/true);
        const at::Tensor causal = ref.truth > 0;
        const at::Tensor rel
            = ((parity.truth.cpu() - ref.truth).abs() / ref.truth.clamp_min(1e-30)).masked_select(causal);
        const double worst = rel.max().item<double>();
        qInfo("bf16 parity mode: worst relative error of Ĝ %.4f (spec: 1e-2)", worst);
        QVERIFY2(worst <= 1e-2, qPrintable(QString::number(worst))); // seerattention.md §10 item 3
    }

    void cudaInputChecks()
    {
        const Case c = makeCase(1, 100, 4, 2, 64, at::kHalf, 1);
        const at::Tensor mask = at::ones({1, 4, 3, 3}, at::kBool);
        QVERIFY(errorOf([&] {
            blockSparseAttention(c.q, c.k, c.v, mask.to(at::kCUDA), 48, c.scale);
        }).startsWith(QLatin1String("block size")));
        QVERIFY(errorOf([&] {
            blockSparseAttention(c.q, c.k, c.v, at::ones({1, 4, 4, 4}, at::kBool), 32, c.scale);
        }).startsWith(QLatin1String("block mask: on cpu")));
        const Case wide = makeCase(1, 40, 2, 2, 256, at::kHalf, 2);
        QVERIFY(errorOf([&] {
            blockSparseAttention(wide.q, wide.k, wide.v, at::ones({1, 2, 1, 1}, at::kBool).cuda(), 64, wide.scale);
        }).startsWith(QLatin1String("query: head dim")));
        QVERIFY(errorOf([&] {
            blockSparseAttention(
                c.q.to(at::kDouble), c.k.to(at::kDouble), c.v.to(at::kDouble), mask.to(at::kCUDA), 32, c.scale);
        }).startsWith(QLatin1String("query: dtype")));
    }

    void allOnesVersusDense()
    {
        // §10.15: reported, not asserted (shared machines).
        const std::int64_t N = 8192, Hq = 32, Hkv = 8, d = 128;
        const int B = 64;
        const Case c = makeCase(1, N, Hq, Hkv, d, at::kBFloat16, 3);
        const std::int64_t nb = N / B;
        const at::Tensor ones = at::ones({1, Hq, nb, nb}, at::TensorOptions().dtype(at::kBool).device(at::kCUDA));
        const at::Tensor kx = c.k.repeat_interleave(Hq / Hkv, 1), vx = c.v.repeat_interleave(Hq / Hkv, 1);
        const double sparseMs
            = medianMs([&] { return blockSparseAttention(c.q, c.k, c.v, ones, B, c.scale).output; }, 3, 5);
        const double denseMs
            = medianMs([&] { return at::scaled_dot_product_attention(c.q, kx, vx, {}, 0.0, true, c.scale); }, 3, 5);
        qInfo("N=%lld Hq=%lld Hkv=%lld d=%lld bf16: block-sparse all-ones %.2f ms, at::scaled_dot_product_attention "
              "causal %.2f ms, ratio %.2f (target <= 1.2 vs the same family)",
            static_cast<long long>(N), static_cast<long long>(Hq), static_cast<long long>(Hkv),
            static_cast<long long>(d), sparseMs, denseMs, sparseMs / denseMs);
    }
};

QTEST_GUILESS_MAIN(TestSparseGpu)
#include "tst_sparse_gpu.moc"
