// Block-sparse attention and the block-level ground truth on CPU (seerattention.md §10 items 1–4):
// against dense attention written out with an explicit token mask, against the explicit pooled
// attention matrix, and the input checks. Float64 rows hold the spec's 1e-6; float32 rows 1e-5.
#include "sparse/attentionkernels.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <QTest>

#include <chrono>
#include <cmath>
#include <stdexcept>

using namespace blockscope::sparse;

namespace {

struct Inputs
{
    at::Tensor q, k, v;
    double scale = 0;
};

Inputs randomInputs(std::int64_t N, std::int64_t Hq, std::int64_t Hkv, std::int64_t d, at::ScalarType dtype,
    std::uint64_t seed, std::int64_t batch = 1)
{
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    const auto opts = at::TensorOptions().dtype(at::kDouble);
    Inputs in;
    in.q = at::randn({batch, Hq, N, d}, gen, opts).to(dtype);
    in.k = at::randn({batch, Hkv, N, d}, gen, opts).to(dtype);
    in.v = at::randn({batch, Hkv, N, d}, gen, opts).to(dtype);
    in.scale = 1.0 / std::sqrt(static_cast<double>(d));
    return in;
}

std::int64_t blocks(std::int64_t N, int B)
{
    return (N + B - 1) / B;
}

// Token mask [b, Hq, N, N]: j <= i and tile (block(i), block(j)) selected — written out by loops.
at::Tensor tokenMask(const at::Tensor &blockMask, std::int64_t N, int B)
{
    const at::Tensor m = blockMask.to(at::kBool).contiguous();
    const auto bsz = m.size(0), H = m.size(1);
    at::Tensor out = at::zeros({bsz, H, N, N}, at::kBool);
    auto mm = m.accessor<bool, 4>();
    auto oo = out.accessor<bool, 4>();
    for (std::int64_t b = 0; b < bsz; ++b)
        for (std::int64_t h = 0; h < H; ++h)
            for (std::int64_t i = 0; i < N; ++i)
                for (std::int64_t j = 0; j <= i; ++j)
                    oo[b][h][i][j] = mm[b][h][i / B][j / B];
    return out;
}

// softmax over the allowed keys, times V; rows with no allowed key give 0.
struct Dense
{
    at::Tensor output, lse;
    std::int64_t emptyRows = 0;
};

Dense denseReference(const Inputs &in, const at::Tensor &allowed)
{
    const auto group = in.q.size(1) / in.k.size(1);
    const at::Tensor kx = in.k.repeat_interleave(group, 1);
    const at::Tensor vx = in.v.repeat_interleave(group, 1);
    at::Tensor s = at::matmul(in.q, kx.transpose(2, 3)) * in.scale;
    const at::Tensor empty = allowed.logical_not().all(-1, true);
    s = s.masked_fill(allowed.logical_not(), -std::numeric_limits<double>::infinity());
    Dense d;
    d.lse = at::logsumexp(s, -1);
    at::Tensor p = at::softmax(s.masked_fill(empty, 0.0), -1).masked_fill(allowed.logical_not(), 0.0);
    d.output = at::matmul(p, vx);
    d.emptyRows = empty.sum().item<std::int64_t>();
    return d;
}

double maxAbsDiff(const at::Tensor &a, const at::Tensor &b)
{
    return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

double tolerance(at::ScalarType t)
{
    return t == at::kDouble ? 1e-6 : 1e-5;
}

at::Tensor randomBlockMask(std::int64_t Hq, std::int64_t nb, std::uint64_t seed)
{
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    at::Tensor mask = at::rand({1, Hq, nb, nb}, gen, at::TensorOptions().dtype(at::kDouble)) < 0.5;
    if (nb > 1)
        mask[0][0][1].fill_(false); // head 0: the second query block selects nothing
    mask[0][Hq - 1][nb - 1][0] = true; // last head: the sink block of the last row is on
    return mask;
}

void addShapeRows()
{
    QTest::addColumn<int>("tokens");
    QTest::addColumn<int>("blockSize");
    QTest::addColumn<int>("qHeads");
    QTest::addColumn<int>("kvHeads");
    QTest::addColumn<bool>("float64");
    const std::pair<int, int> heads[] = {{4, 4}, {8, 4}, {8, 1}};
    for (const bool f64 : {true, false}) {
        for (const int B : {16, 64}) {
            for (const int N : {1, B - 1, B, 3 * B + 5, 512}) {
                for (const auto &[hq, hkv] : heads) {
                    const QByteArray name = QByteArray(f64 ? "f64" : "f32") + " N=" + QByteArray::number(N) + " B="
                        + QByteArray::number(B) + " H=" + QByteArray::number(hq) + "/" + QByteArray::number(hkv);
                    QTest::newRow(name.constData()) << N << B << hq << hkv << f64;
                }
            }
        }
    }
}

#define FETCH_SHAPE()                                                                                                  \
    QFETCH(int, tokens);                                                                                               \
    QFETCH(int, blockSize);                                                                                            \
    QFETCH(int, qHeads);                                                                                               \
    QFETCH(int, kvHeads);                                                                                              \
    QFETCH(bool, float64);                                                                                             \
    const at::ScalarType dtype = float64 ? at::kDouble : at::kFloat;                                                   \
    const std::int64_t nb = blocks(tokens, blockSize)

template<typename F>
QString errorOf(F &&f)
{
    try {
        f();
    } catch (const std::invalid_argument &e) {
        return QString::fromUtf8(e.what());
    }
    return QStringLiteral("<no std::invalid_argument>");
}

} // namespace

class TestSparseAttention : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void allOnesMaskIsDenseCausal_data() { addShapeRows(); }
    void allOnesMaskIsDenseCausal()
    {
        FETCH_SHAPE();
        const Inputs in = randomInputs(tokens, qHeads, kvHeads, 16, dtype, 1000 + tokens);
        const at::Tensor ones = at::ones({1, qHeads, nb, nb}, at::kBool);
        const SparseAttentionResult res = blockSparseAttention(in.q, in.k, in.v, ones, blockSize, in.scale);
        QCOMPARE(res.output.scalar_type(), dtype);
        QCOMPARE(res.lse.scalar_type(), at::kFloat);
        QCOMPARE(res.emptyRows, std::int64_t(0));

        const auto group = qHeads / kvHeads;
        const at::Tensor sdpa = at::scaled_dot_product_attention(in.q, in.k.repeat_interleave(group, 1),
            in.v.repeat_interleave(group, 1), {}, 0.0, /*is_causal=*/true, in.scale);
        QVERIFY2(maxAbsDiff(res.output, sdpa) <= tolerance(dtype),
            qPrintable(QString::number(maxAbsDiff(res.output, sdpa))));

        const Dense ref = denseReference(in, tokenMask(ones, tokens, blockSize));
        QVERIFY(maxAbsDiff(res.output, ref.output) <= tolerance(dtype));
        QVERIFY(maxAbsDiff(res.lse, ref.lse) <= 1e-5);

        // The dense output of the ground-truth pass is the same attention.
        const BlockAttentionMaps maps = blockAttentionMaps(in.q, in.k, in.v, blockSize, in.scale, false, true);
        QVERIFY(maxAbsDiff(maps.output, ref.output) <= tolerance(dtype));
    }

    void arbitraryMaskIsTokenMask_data() { addShapeRows(); }
    void arbitraryMaskIsTokenMask()
    {
        FETCH_SHAPE();
        const Inputs in = randomInputs(tokens, qHeads, kvHeads, 8, dtype, 2000 + tokens);
        const at::Tensor mask = randomBlockMask(qHeads, nb, 77 + tokens + blockSize);
        const SparseAttentionResult res = blockSparseAttention(in.q, in.k, in.v, mask, blockSize, in.scale);
        const Dense ref = denseReference(in, tokenMask(mask, tokens, blockSize));
        QVERIFY(maxAbsDiff(res.output, ref.output) <= tolerance(dtype));
        QCOMPARE(res.emptyRows, ref.emptyRows);
        if (nb > 1)
            QVERIFY(res.emptyRows >= std::min<std::int64_t>(blockSize, tokens - blockSize));
        // Empty rows: output 0 and lse -inf, exactly.
        const at::Tensor empty = res.lse.isneginf();
        QCOMPARE(empty.sum().item<std::int64_t>(), res.emptyRows);
        QCOMPARE(res.output.masked_select(empty.unsqueeze(-1)).abs().sum().item<double>(), 0.0);
        const at::Tensor finite = empty.logical_not();
        QVERIFY(maxAbsDiff(res.lse.masked_select(finite), ref.lse.to(at::kFloat).masked_select(finite)) <= 1e-5);

        // uint8 masks and index lists give the identical output.
        const SparseAttentionResult bytes
            = blockSparseAttention(in.q, in.k, in.v, mask.to(at::kByte), blockSize, in.scale);
        QVERIFY(at::equal(bytes.output, res.output));
        const at::Tensor lists = maskToIndexLists(mask);
        const SparseAttentionResult indexed = blockSparseAttentionIndexed(in.q, in.k, in.v, lists, blockSize, in.scale);
        QVERIFY(at::equal(indexed.output, res.output));
        QVERIFY(at::equal(indexed.lse, res.lse));
        QCOMPARE(indexed.emptyRows, res.emptyRows);
    }

    void upperTriangleIsIgnored()
    {
        const Inputs in = randomInputs(40, 2, 1, 8, at::kDouble, 5);
        const at::Tensor lower = at::ones({3, 3}, at::kBool).tril().expand({1, 2, 3, 3});
        const at::Tensor full = at::ones({1, 2, 3, 3}, at::kBool);
        const auto a = blockSparseAttention(in.q, in.k, in.v, lower, 16, in.scale);
        const auto b = blockSparseAttention(in.q, in.k, in.v, full, 16, in.scale);
        QVERIFY(at::equal(a.output, b.output));
    }

    void indexListLayout()
    {
        // Row 0: {0}; row 1: nothing (the cell above the diagonal is ignored); row 2: {2, 0}.
        at::Tensor mask = at::zeros({1, 1, 3, 3}, at::kBool);
        mask[0][0][0][0] = true;
        mask[0][0][1][2] = true;
        mask[0][0][2][0] = true;
        mask[0][0][2][2] = true;
        const at::Tensor lists = maskToIndexLists(mask);
        QCOMPARE(lists.scalar_type(), at::kInt);
        QCOMPARE(lists.sizes().vec(), (std::vector<std::int64_t>{1, 1, 3, 2}));
        const at::Tensor want = at::tensor({0, -1, -1, -1, 2, 0}, at::kInt).view({1, 1, 3, 2});
        QVERIFY(at::equal(lists, want));
        // An empty mask still yields one (padding) column.
        QCOMPARE(maskToIndexLists(at::zeros({1, 2, 4, 4}, at::kByte)).size(3), std::int64_t(1));
    }

    void groundTruthIsPooledExplicitMatrix_data() { addShapeRows(); }
    void groundTruthIsPooledExplicitMatrix()
    {
        FETCH_SHAPE();
        const Inputs in = randomInputs(tokens, qHeads, kvHeads, 16, dtype, 3000 + tokens);
        const BlockAttentionMaps streamed = blockAttentionMaps(in.q, in.k, in.v, blockSize, in.scale, true);
        const BlockAttentionMaps explicitMaps = blockAttentionMapsExplicit(in.q, in.k, in.v, blockSize, in.scale, true);
        const std::vector<std::int64_t> gridShape{1, qHeads, nb, nb};
        QCOMPARE(streamed.truth.sizes().vec(), gridShape);
        QCOMPARE(streamed.truth.scalar_type(), at::kFloat);
        QCOMPARE(streamed.mass.sizes().vec(), (std::vector<std::int64_t>{1, qHeads, tokens, nb}));
        QVERIFY(!streamed.output.defined());
        QVERIFY2(maxAbsDiff(streamed.truth, explicitMaps.truth) <= 1e-6,
            qPrintable(QString::number(maxAbsDiff(streamed.truth, explicitMaps.truth))));
        QVERIFY(maxAbsDiff(streamed.blockMax, explicitMaps.blockMax) <= 1e-6);
        QVERIFY(maxAbsDiff(streamed.mass, explicitMaps.mass) <= 1e-6);

        // Rows of Ĝ sum to 1, nothing above the diagonal, every causal tile of a row positive.
        QVERIFY(maxAbsDiff(streamed.truth.sum(-1), at::ones({1, qHeads, nb})) <= 1e-6);
        const at::Tensor upper = at::ones({nb, nb}, at::kBool).triu(1);
        QCOMPARE(streamed.truth.masked_select(upper).abs().sum().item<double>(), 0.0);
        QVERIFY(streamed.truth.masked_select(upper.logical_not()).min().item<double>() > 0.0);
        if (tokens <= blockSize)
            QVERIFY(at::equal(streamed.truth, at::ones({1, qHeads, 1, 1})));

        // Every token's mass sums to 1; none above its own block.
        QVERIFY(maxAbsDiff(streamed.mass.sum(-1), at::ones({1, qHeads, tokens})) <= 1e-6);
        const at::Tensor tokenBlock = at::div(at::arange(tokens), blockSize, "floor").view({tokens, 1});
        const at::Tensor future = at::arange(nb).view({1, nb}) > tokenBlock;
        QCOMPARE(streamed.mass.masked_select(future).abs().sum().item<double>(), 0.0);

        // G is the 2D max of the exact probabilities: check one tile by brute force.
        const std::int64_t I = nb - 1, J = 0, h = qHeads - 1;
        const auto group = qHeads / kvHeads;
        at::Tensor s = at::matmul(in.q[0][h], in.k[0][h / group].transpose(0, 1)).to(at::kDouble) * in.scale;
        s = s.masked_fill(at::ones({tokens, tokens}, at::kBool).triu(1), -INFINITY);
        const at::Tensor p = at::softmax(s, -1);
        const double g = p.narrow(0, I * blockSize, tokens - I * blockSize)
                             .narrow(1, 0, std::min<std::int64_t>(blockSize, tokens))
                             .max()
                             .item<double>();
        QVERIFY(std::abs(streamed.blockMax[0][h][I][J].item<double>() - g) <= 1e-6);
    }

    void massRecall_data() { addShapeRows(); }
    void massRecall()
    {
        FETCH_SHAPE();
        const Inputs in = randomInputs(tokens, qHeads, kvHeads, 8, dtype, 4000 + tokens);
        const at::Tensor ones = at::ones({1, qHeads, nb, nb}, at::kBool);
        const at::Tensor full = attentionMassRecall(in.q, in.k, ones, blockSize, in.scale);
        QCOMPARE(full.scalar_type(), at::kFloat);
        QCOMPARE(full.sizes().vec(), (std::vector<std::int64_t>{1, qHeads, tokens}));
        QVERIFY(maxAbsDiff(full, at::ones_like(full)) <= 1e-6);

        // A random mask keeps Σ_{J selected} Msum[i, J] of every token.
        const at::Tensor mask = randomBlockMask(qHeads, nb, 99 + tokens);
        const at::Tensor recall = attentionMassRecall(in.q, in.k, mask, blockSize, in.scale);
        const at::Tensor mass = blockAttentionMapsExplicit(in.q, in.k, in.v, blockSize, in.scale, true).mass;
        const at::Tensor tokenBlock = at::div(at::arange(tokens), blockSize, "floor");
        const at::Tensor rowMask = mask.index_select(2, tokenBlock).to(at::kFloat); // [1, Hq, N, nb]
        const at::Tensor expected = (mass * rowMask).sum(-1);
        QVERIFY2(maxAbsDiff(recall, expected) <= 1e-6, qPrintable(QString::number(maxAbsDiff(recall, expected))));
    }

    void batchAboveOne()
    {
        const Inputs in = randomInputs(70, 4, 2, 8, at::kDouble, 11, 3);
        const std::int64_t nb = blocks(70, 16);
        auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
        const at::Tensor mask = at::rand({3, 4, nb, nb}, gen, at::TensorOptions().dtype(at::kDouble)) < 0.6;
        const auto res = blockSparseAttention(in.q, in.k, in.v, mask, 16, in.scale);
        const Dense ref = denseReference(in, tokenMask(mask, 70, 16));
        QVERIFY(maxAbsDiff(res.output, ref.output) <= 1e-6);
        QCOMPARE(res.emptyRows, ref.emptyRows);
        const auto streamed = blockAttentionMaps(in.q, in.k, in.v, 16, in.scale, true);
        const auto explicitMaps = blockAttentionMapsExplicit(in.q, in.k, in.v, 16, in.scale, true);
        QVERIFY(maxAbsDiff(streamed.truth, explicitMaps.truth) <= 1e-6);
    }

    void errorsNameTheTensor()
    {
        const Inputs in = randomInputs(50, 4, 2, 8, at::kFloat, 1);
        const at::Tensor mask = at::ones({1, 4, 4, 4}, at::kBool);
        const double sc = in.scale;
        QCOMPARE(errorOf([&] {
            blockSparseAttention(in.q, in.k, in.v, at::ones({1, 4, 3, 3}, at::kBool), 16, sc);
        }),
            QStringLiteral("block mask: shape [1,4,3,3], expected [1,4,4,4]"));
        auto has = [](const QString &msg, const char *what) {
            if (!msg.startsWith(QLatin1String(what)))
                qWarning() << "unexpected message" << msg;
            return msg.startsWith(QLatin1String(what));
        };
        QVERIFY(has(errorOf([&] { blockSparseAttention(in.q[0], in.k, in.v, mask, 16, sc); }), "query:"));
        QVERIFY(has(errorOf([&] { blockSparseAttention(in.q, in.k.narrow(2, 0, 49), in.v, mask, 16, sc); }), "key:"));
        QVERIFY(has(errorOf([&] { blockSparseAttention(in.q, in.k, in.v.narrow(3, 0, 4), mask, 16, sc); }), "value:"));
        QVERIFY(has(errorOf([&] { blockSparseAttention(in.q, in.k.to(at::kDouble), in.v, mask, 16, sc); }), "key:"));
        QVERIFY(has(errorOf([&] {
            blockSparseAttention(in.q.to(at::kHalf), in.k.to(at::kHalf), in.v.to(at::kHalf), mask, 16, sc);
        }),
            "query: dtype"));
        const Inputs gqa = randomInputs(50, 6, 4, 8, at::kFloat, 2);
        QVERIFY(has(errorOf([&] {
            blockSparseAttention(gqa.q, gqa.k, gqa.v, at::ones({1, 6, 4, 4}, at::kBool), 16, sc);
        }),
            "key: 4 KV heads do not divide 6"));
        QVERIFY(has(errorOf([&] { blockSparseAttention(in.q, in.k, in.v, mask.to(at::kFloat), 16, sc); }),
            "block mask: dtype"));
        QVERIFY(has(errorOf([&] { blockSparseAttention(in.q, in.k, in.v, mask, 0, sc); }), "block size"));
        QVERIFY(has(errorOf([&] { blockSparseAttention(in.q, in.k, in.v, mask, 16, NAN); }), "scale"));

        const at::Tensor lists = maskToIndexLists(mask);
        QVERIFY(has(errorOf([&] { blockSparseAttentionIndexed(in.q, in.k, in.v, lists.narrow(2, 0, 3), 16, sc); }),
            "block indices: shape"));
        QVERIFY(has(errorOf([&] { blockSparseAttentionIndexed(in.q, in.k, in.v, lists.to(at::kFloat), 16, sc); }),
            "block indices: dtype"));
        at::Tensor ascending = lists.clone();
        ascending[0][0][3][0] = 0;
        ascending[0][0][3][1] = 3;
        QVERIFY(has(errorOf([&] { blockSparseAttentionIndexed(in.q, in.k, in.v, ascending, 16, sc); }),
            "block indices: each row"));
        at::Tensor outOfRange = lists.clone();
        outOfRange[0][1][2][0] = 4;
        QVERIFY(has(errorOf([&] { blockSparseAttentionIndexed(in.q, in.k, in.v, outOfRange, 16, sc); }),
            "block indices: entries"));
        at::Tensor gap = lists.clone();
        gap[0][2][3][1] = -1; // [3, -1, 1, 0]
        QVERIFY(has(
            errorOf([&] { blockSparseAttentionIndexed(in.q, in.k, in.v, gap, 16, sc); }), "block indices: each row"));

        QVERIFY(has(errorOf([&] { maskToIndexLists(at::ones({1, 4, 3, 4}, at::kBool)); }), "block mask:"));
        QVERIFY(has(errorOf([&] { blockAttentionMaps(in.q, in.k, in.v.narrow(1, 0, 1), 16, sc); }), "value:"));
        QVERIFY(has(errorOf([&] { blockAttentionMapsExplicit(in.q, in.k.narrow(2, 0, 10), in.v, 16, sc); }), "key:"));
        QVERIFY(has(errorOf([&] { attentionMassRecall(in.q, in.k, mask.narrow(1, 0, 2), 16, sc); }), "block mask:"));
        QVERIFY(has(errorOf([&] { attentionMassRecall(in.q, in.k, mask, -3, sc); }), "block size"));
    }

    void kernelsCompiledFlag()
    {
#ifdef BLOCKSCOPE_HAVE_CUDA
        QVERIFY(sparseKernelsCompiled());
#else
        QVERIFY(!sparseKernelsCompiled());
#endif
    }

    void cpuSpeedAtTwoThousandTokens()
    {
        // Not a benchmark: a guard that the references stay usable at the tiny-model sizes.
        const Inputs in = randomInputs(2048, 8, 4, 64, at::kFloat, 9);
        const std::int64_t nb = blocks(2048, 16);
        const at::Tensor mask = randomBlockMask(8, nb, 5);
        const auto t0 = std::chrono::steady_clock::now();
        const auto res = blockSparseAttention(in.q, in.k, in.v, mask, 16, in.scale);
        const auto t1 = std::chrono::steady_clock::now();
        const auto maps = blockAttentionMaps(in.q, in.k, in.v, 16, in.scale, true);
        const auto t2 = std::chrono::steady_clock::now();
        const auto recall = attentionMassRecall(in.q, in.k, mask, 16, in.scale);
        const auto t3 = std::chrono::steady_clock::now();
        auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
        qInfo("N=2048 Hq=8 d=64 B=16 on CPU: sparse %.0f ms, ground truth + mass %.0f ms, recall %.0f ms", ms(t0, t1),
            ms(t1, t2), ms(t2, t3));
        QVERIFY(res.output.isfinite().all().item<bool>());
        QVERIFY(maps.truth.isfinite().all().item<bool>());
        QVERIFY(recall.isfinite().all().item<bool>());
    }
};

QTEST_GUILESS_MAIN(TestSparseAttention)
#include "tst_sparseattention.moc"
