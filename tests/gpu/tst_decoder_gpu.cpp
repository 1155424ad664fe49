// The decoder on CUDA computes what it computes on CPU, in float32, bfloat16 and float16, and
// its partial forward and capture paths agree across devices.
#include "common/device.h"
#include "model/decoder.h"
#include "model/modelhandle.h"
#include "testdata.h"

#include <ATen/ATen.h>
#include <QTest>

using namespace blockscope;
using namespace blockscope::test;

class TestDecoderGpu : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        if (!cudaAvailable())
            QSKIP(qPrintable(QStringLiteral("no CUDA device: %1").arg(QString::fromStdString(deviceSummary()))));
        const QString path = sourceDir() + QStringLiteral("/tests/fixtures/models/llama_gqa_untied");
        m_model = ModelHandle::open(path.toStdString());
        at::manual_seed(3);
        m_tokens = at::randint(m_model->architecture().vocab, {3, 40}, at::kLong);
    }

    void matchesCpu_data()
    {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<double>("tolerance");
        QTest::newRow("float32") << int(at::kFloat) << 1e-3;
        QTest::newRow("bfloat16") << int(at::kBFloat16) << 0.35;
        QTest::newRow("float16") << int(at::kHalf) << 0.05;
    }

    void matchesCpu()
    {
        QFETCH(int, dtype);
        QFETCH(double, tolerance);
        Decoder cpu(m_model);
        DecoderOptions gpu;
        gpu.device = c10::Device(c10::kCUDA);
        gpu.dtype = static_cast<c10::ScalarType>(dtype);
        Decoder cuda(m_model, gpu);
        UnitMask mask = UnitMask::dense(cpu.layers());
        mask.skipAttn[1] = true;
        const at::Tensor a = cpu.forward(m_tokens, mask);
        const at::Tensor b = cuda.forward(m_tokens, mask).cpu();
        const double diff = (a - b).abs().max().item<double>();
        qInfo("%s max |cuda - cpu| = %.3g", QTest::currentDataTag(), diff);
        QVERIFY2(diff <= tolerance, qPrintable(QString::number(diff)));
    }

    void captureOnGpu()
    {
        DecoderOptions gpu;
        gpu.device = c10::Device(c10::kCUDA);
        Decoder cuda(m_model, gpu);
        ForwardCapture cap;
        cap.hiddenStates = true;
        cap.attention = ForwardCapture::Attention::Pooled;
        cap.poolTile = 8;
        const at::Tensor full = cuda.forward(m_tokens, UnitMask::dense(cuda.layers()), &cap);
        QVERIFY(cap.attention_pooled_max[0].is_cuda());
        const at::Tensor resumed
            = cuda.logits(cuda.forwardBlocks(cap.hidden[1], 1, cuda.layers(), UnitMask::dense(cuda.layers())));
        QVERIFY(at::allclose(full, resumed, 1e-4, 1e-4));
    }

private:
    std::shared_ptr<const ModelHandle> m_model;
    at::Tensor m_tokens;
};

QTEST_GUILESS_MAIN(TestDecoderGpu)
#include "tst_decoder_gpu.moc"
