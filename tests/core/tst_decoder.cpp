// The decoder computes what the original model computes: stories260K reproduces llama2.c's
// golden logits from the .bin, the GGUF and an exported Hugging Face folder.
#include "hostile.h"
#include "model/checkpointexport.h"
#include "model/decoder.h"
#include "model/modelhandle.h"
#include "testdata.h"

#include <ATen/ATen.h>
#include <QFile>
#include <QTest>

using namespace blockscope;
using namespace blockscope::test;

namespace {
at::Tensor goldenTokens()
{
    QFile f(sharedFile(QStringLiteral("golden/stories260K.tokens.txt")));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    std::vector<std::int64_t> ids;
    for (const auto &part : f.readAll().trimmed().split(' '))
        ids.push_back(part.toLongLong());
    return at::tensor(ids, at::kLong).unsqueeze(0);
}

at::Tensor loadGoldenLogits()
{
    const QByteArray raw = readFile(sharedFile(QStringLiteral("golden/stories260K.logits.f32")));
    return at::from_blob(const_cast<char *>(raw.constData()), {85, 512}, at::kFloat).clone();
}

double meanNll(const at::Tensor &logits, const at::Tensor &tokens)
{
    at::Tensor lp = at::log_softmax(logits.to(at::kDouble), -1);
    const auto n = tokens.size(1) - 1;
    at::Tensor targets = tokens.squeeze(0).narrow(0, 1, n);
    return -lp.narrow(0, 0, n).gather(1, targets.unsqueeze(1)).mean().item<double>();
}
} // namespace

class TestDecoder : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        if (sharedFile(QStringLiteral("golden/stories260K.logits.f32")).isEmpty()
            || sharedFile(QStringLiteral("models/stories260K/stories260K.bin")).isEmpty())
            QSKIP("stories260K golden data not found (set BLOCKSCOPE_SHARED_DATA)");
        m_tokens = goldenTokens();
        m_golden = loadGoldenLogits();
        QCOMPARE(m_tokens.size(1), 85);
        m_hfDir = freshTempDir(QStringLiteral("decoder-hf"));
        exportHuggingFaceFolder(
            ModelHandle::open(sharedFile(QStringLiteral("models/stories260K/stories260K.bin")).toStdString()),
            m_hfDir.toStdString());
    }

    void goldenLogits_data()
    {
        QTest::addColumn<QString>("path");
        QTest::newRow("llama2.c bin") << sharedFile(QStringLiteral("models/stories260K/stories260K.bin"));
        QTest::newRow("gguf") << sharedFile(QStringLiteral("models/stories260K/stories260K.gguf"));
        QTest::newRow("hf safetensors (rotate_half)") << m_hfDir;
    }

    void goldenLogits()
    {
        QFETCH(QString, path);
        auto model = ModelHandle::open(path.toStdString());
        Decoder decoder(model);
        QCOMPARE(decoder.ownedWeightBytes(), std::uint64_t(0)); // float32 on CPU: views of the map
        at::Tensor logits = decoder.forward(m_tokens, UnitMask::dense(decoder.layers())).squeeze(0);
        const double maxDiff = (logits - m_golden).abs().max().item<double>();
        qInfo("max |logits - golden| = %.3g", maxDiff);
        QVERIFY2(maxDiff <= 1e-4, qPrintable(QString::number(maxDiff)));
        const double nll = meanNll(logits, m_tokens);
        qInfo("mean next-token NLL = %.7f", nll);
        QVERIFY(std::abs(nll - 1.419665) <= 1e-5);
    }

    void layoutsAgree_data()
    {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<double>("tolerance");
        // In float64 the two layouts are the same computation up to rounding (formats.md §7);
        // in float32 the reordered sums differ by float noise on logits of magnitude ~10.
        QTest::newRow("float64") << int(at::kDouble) << 1e-10;
        QTest::newRow("float32") << int(at::kFloat) << 5e-5;
    }

    void layoutsAgree()
    {
        QFETCH(int, dtype);
        QFETCH(double, tolerance);
        // Interleaved forward of the .bin and rotate_half forward of its permuted export agree.
        DecoderOptions opts;
        opts.dtype = static_cast<c10::ScalarType>(dtype);
        Decoder a(
            ModelHandle::open(sharedFile(QStringLiteral("models/stories260K/stories260K.bin")).toStdString()), opts);
        Decoder b(ModelHandle::open(m_hfDir.toStdString()), opts);
        const auto mask = UnitMask::dense(a.layers());
        const double diff = (a.forward(m_tokens, mask) - b.forward(m_tokens, mask)).abs().max().item<double>();
        qInfo("max difference %.3g", diff);
        QVERIFY2(diff <= tolerance, qPrintable(QString::number(diff)));
    }

    void skippingAndPartialForward()
    {
        Decoder dec(ModelHandle::open(sharedFile(QStringLiteral("models/stories260K/stories260K.bin")).toStdString()));
        UnitMask mask = UnitMask::dense(dec.layers());
        mask.skipAttn[1] = true;
        mask.skipBlock(3);
        ForwardCapture cap;
        cap.hiddenStates = true;
        at::Tensor full = dec.forward(m_tokens, mask, &cap);
        QCOMPARE(int(cap.hidden.size()), dec.layers() + 1);
        // A skipped block passes the residual through unchanged.
        QVERIFY(at::equal(cap.hidden[3], cap.hidden[4]));
        // Forward from block 2 given the state entering it gives the same logits.
        at::Tensor resumed = dec.logits(dec.forwardBlocks(cap.hidden[2], 2, dec.layers(), mask));
        QVERIFY(at::allclose(full, resumed, 0, 0));
        // Skipping changes the output.
        QVERIFY(!at::allclose(full, dec.forward(m_tokens, UnitMask::dense(dec.layers())), 1e-3, 1e-3));
    }

    void attentionCapture()
    {
        Decoder dec(ModelHandle::open(sharedFile(QStringLiteral("models/stories260K/stories260K.bin")).toStdString()));
        const auto mask = UnitMask::dense(dec.layers());
        ForwardCapture full;
        full.attention = ForwardCapture::Attention::Full;
        at::Tensor a = dec.forward(m_tokens, mask, &full);
        ForwardCapture pooled;
        pooled.attention = ForwardCapture::Attention::Pooled;
        pooled.poolTile = 16;
        at::Tensor b = dec.forward(m_tokens, mask, &pooled);
        // Explicit attention agrees with the fused kernel path.
        at::Tensor plain = dec.forward(m_tokens, mask);
        qInfo("explicit vs fused attention: %.3g / %.3g", (a - plain).abs().max().item<double>(),
            (b - plain).abs().max().item<double>());
        QVERIFY(at::allclose(a, plain, 0, 1e-4));
        QVERIFY(at::allclose(b, plain, 0, 1e-4));
        for (int l = 0; l < dec.layers(); ++l) {
            const at::Tensor &p = full.attention_probs[l]; // [1, 8, 85, 85]
            QCOMPARE(p.sizes().vec(), (std::vector<std::int64_t>{1, 8, 85, 85}));
            QVERIFY(at::allclose(p.sum(-1), at::ones({1, 8, 85}), 1e-5, 1e-5));
            QCOMPARE(p.triu(1).abs().max().item<float>(), 0.0f); // causal
            // Pooling the full matrix over 16x16 tiles gives the captured pooled maps.
            at::Tensor padded = at::constant_pad_nd(p, {0, 96 - 85, 0, 96 - 85}, 0.0).view({1, 8, 6, 16, 6, 16});
            at::Tensor maxRef = padded.amax({3, 5}), sumRef = padded.sum({3, 5});
            QVERIFY(at::allclose(pooled.attention_pooled_max[l], maxRef, 1e-6, 1e-6));
            QVERIFY(at::allclose(pooled.attention_pooled_sum[l], sumRef, 1e-5, 1e-5));
        }
    }

    void lowerPrecision_data()
    {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<double>("tolerance");
        QTest::newRow("bfloat16") << int(at::kBFloat16) << 0.15;
        QTest::newRow("float16") << int(at::kHalf) << 0.02;
    }

    void lowerPrecision()
    {
        QFETCH(int, dtype);
        QFETCH(double, tolerance);
        DecoderOptions opts;
        opts.dtype = static_cast<c10::ScalarType>(dtype);
        Decoder dec(
            ModelHandle::open(sharedFile(QStringLiteral("models/stories260K/stories260K.bin")).toStdString()), opts);
        QVERIFY(dec.ownedWeightBytes() > 0); // converted copies
        at::Tensor logits = dec.forward(m_tokens, UnitMask::dense(dec.layers())).squeeze(0);
        const double nll = meanNll(logits, m_tokens);
        qInfo("%s NLL %.5f", QTest::currentDataTag(), nll);
        QVERIFY2(std::abs(nll - 1.419665) < tolerance, qPrintable(QString::number(nll)));
    }

    void badInput()
    {
        Decoder dec(ModelHandle::open(sharedFile(QStringLiteral("models/stories260K/stories260K.bin")).toStdString()));
        QVERIFY_THROWS_EXCEPTION(
            std::invalid_argument, dec.forward(at::tensor({1, 2, 512}, at::kLong).unsqueeze(0), UnitMask::dense(5)));
        DecoderOptions cuda;
        cuda.device = c10::Device(c10::kCUDA);
        if (!at::hasCUDA())
            QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                Decoder(
                    ModelHandle::open(sharedFile(QStringLiteral("models/stories260K/stories260K.bin")).toStdString()),
                    cuda));
    }

private:
    at::Tensor m_tokens, m_golden;
    QString m_hfDir;
};

QTEST_GUILESS_MAIN(TestDecoder)
#include "tst_decoder.moc"
