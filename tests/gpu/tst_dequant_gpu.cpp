// The GGUF dequantisation kernel against the `gguf` Python package's values
// (tests/fixtures/quants, made by tests/fixtures/make_gguf_quant_fixtures.py) bit for bit in
// float32, against the CPU path's float16 and bfloat16 rounding, and on SmolLM2's tensors through
// weightTensor when the setup has fetched it.
#include "common/device.h"
#include "model/dequantise_gpu.h"
#include "model/ggmlquants.h"
#include "model/modelhandle.h"
#include "model/weighttensor.h"
#include "testdata.h"

#include <ATen/ATen.h>
#include <QTest>

using namespace blockscope;
using namespace blockscope::test;

namespace {
const GgmlTypeInfo *typeNamed(const QString &name)
{
    for (std::uint32_t id = 0; id < 64; ++id)
        if (const auto *t = ggmlTypeById(id); t && name == QLatin1String(t->name))
            return t;
    return nullptr;
}

bool sameBits(const at::Tensor &a, const at::Tensor &b)
{
    return a.sizes() == b.sizes() && a.scalar_type() == b.scalar_type()
        && std::memcmp(a.data_ptr(), b.data_ptr(), static_cast<std::size_t>(a.nbytes())) == 0;
}
} // namespace

class TestDequantGpu : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        if (!cudaAvailable())
            QSKIP(qPrintable(QStringLiteral("no CUDA device: %1").arg(QString::fromStdString(deviceSummary()))));
        const QString path = sourceDir() + QStringLiteral("/tests/fixtures/quants/gguf_quants.safetensors");
        m_fixture = ModelHandle::open(path.toStdString());
    }

    void equalsReference_data()
    {
        QTest::addColumn<QString>("type");
        for (const char *t :
            {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"})
            QTest::newRow(t) << QString::fromLatin1(t);
    }

    void equalsReference()
    {
        QFETCH(QString, type);
        const GgmlTypeInfo *info = typeNamed(type);
        QVERIFY(info);
        const std::string key = "dequant." + type.toStdString();
        const TensorInfo *blocks = m_fixture->find(key + ".blocks");
        const TensorInfo *values = m_fixture->find(key + ".values");
        QVERIFY(blocks && values);
        const at::Tensor expected = weightTensor(m_fixture, *values).contiguous();

        TensorInfo t;
        t.name = key;
        t.dtype = info->dtype;
        t.shape = {blocks->shape[0], static_cast<std::int64_t>(info->blockElements)};
        t.bytes = blocks->bytes;
        const auto raw = m_fixture->data(*blocks);
        const c10::Device cuda(c10::kCUDA);
        for (const at::ScalarType st : {at::kFloat, at::kHalf, at::kBFloat16}) {
            const auto gpu = dequantiseOnGpu(raw, t, st, cuda);
            QVERIFY2(gpu.has_value(), "the kernel declined a format it reads");
            QVERIFY(gpu->is_cuda());
            const at::Tensor got = gpu->cpu().reshape({-1});
            // float32: the reference's bits; float16 / bfloat16: the CPU's rounding of them.
            const at::Tensor want = expected.reshape({-1}).to(st);
            if (!sameBits(got, want)) {
                const at::Tensor diff = (got.to(at::kFloat) - want.to(at::kFloat)).abs().nan_to_num(0.0, 1e30, 1e30);
                const auto worst = diff.argmax().item<std::int64_t>();
                QFAIL(qPrintable(QStringLiteral("%1 as %2: value %3 (block %4) is %5, expected %6")
                                     .arg(type, QString::fromStdString(c10::toString(st)))
                                     .arg(worst)
                                     .arg(worst / static_cast<std::int64_t>(info->blockElements))
                                     .arg(got[worst].item<double>())
                                     .arg(want[worst].item<double>())));
            }
        }
    }

    void declinesWhatItCannotWrite()
    {
        const TensorInfo *blocks = m_fixture->find("dequant.Q4_0.blocks");
        QVERIFY(blocks);
        TensorInfo t;
        t.name = "q";
        t.dtype = DType::Q4_0;
        t.shape = {blocks->shape[0] * 32};
        const auto raw = m_fixture->data(*blocks);
        QVERIFY(!dequantiseOnGpu(raw, t, at::kDouble, c10::Device(c10::kCUDA)).has_value());
        QVERIFY(!dequantiseOnGpu(raw, t, at::kFloat, c10::Device(c10::kCPU)).has_value());
        // A byte count that does not match the shape is an error naming the tensor.
        t.shape = {blocks->shape[0] * 32 + 32};
        try {
            (void)dequantiseOnGpu(raw, t, at::kFloat, c10::Device(c10::kCUDA));
            QFAIL("a short tensor was dequantised");
        } catch (const std::exception &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QLatin1String("tensor q")), e.what());
        }
    }

    // Every quantised tensor of SmolLM2 (Q4_1 and Q8_0) loads on the GPU to the CPU's values.
    void smolLm2TensorsMatchCpu()
    {
        BLOCKSCOPE_REQUIRE_SMOLLM2(path);
        const auto model = ModelHandle::open(path.toStdString());
        int quantised = 0;
        for (const TensorInfo &t : model->tensors()) {
            if (!dtypeIsBlockQuantised(t.dtype))
                continue;
            ++quantised;
            for (const at::ScalarType st : {at::kFloat, at::kBFloat16}) {
                const at::Tensor cpu = weightTensor(model, t, st);
                const at::Tensor gpu = weightTensor(model, t, st, c10::Device(c10::kCUDA));
                QVERIFY2(gpu.is_cuda(), t.name.c_str());
                QVERIFY2(sameBits(cpu.contiguous(), gpu.cpu().contiguous()), t.name.c_str());
            }
        }
        QCOMPARE(quantised, 211);
    }

private:
    std::shared_ptr<const ModelHandle> m_fixture;
};

QTEST_GUILESS_MAIN(TestDequantGpu)
#include "tst_dequant_gpu.moc"
