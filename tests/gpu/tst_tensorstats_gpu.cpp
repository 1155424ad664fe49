// The CUDA statistics kernel against the CPU reference (core/model/tensorstats.cpp), on sizes
// with ragged tails, special values and the real stories260K tensors.
#include "common/device.h"
#include "model/modelhandle.h"
#include "model/safetensorswriter.h"
#include "model/tensorstats.h"
#include "model/tensorstats_gpu.h"
#include "testdata.h"

#include <QTest>
#include <cmath>
#include <random>

using namespace blockscope;
using namespace blockscope::test;

class TestTensorStatsGpu : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        if (!cudaAvailable())
            QSKIP(qPrintable(QStringLiteral("no CUDA device: %1").arg(QString::fromStdString(deviceSummary()))));
    }

    void matchesCpu_data()
    {
        QTest::addColumn<qint64>("n");
        QTest::addColumn<bool>("special");
        QTest::newRow("one value") << qint64(1) << false;
        QTest::newRow("ragged 1000") << qint64(1000) << false;
        QTest::newRow("one block plus one") << qint64(257) << false;
        QTest::newRow("many blocks ragged") << qint64(1 << 20) + 17 << false;
        QTest::newRow("with zeros nan inf") << qint64(4099) << true;
    }

    void matchesCpu()
    {
        QFETCH(qint64, n);
        QFETCH(bool, special);
        std::vector<float> v(n);
        std::mt19937 rng(42);
        std::normal_distribution<float> dist(0.5f, 2.0f);
        for (auto &x : v)
            x = dist(rng);
        if (special) {
            for (qint64 i = 0; i < n; i += 97)
                v[i] = 0.0f;
            v[5] = NAN;
            v[6] = INFINITY;
            v[7] = -INFINITY;
        }
        const QString path = freshTempDir(QStringLiteral("gpu-stats")) + QStringLiteral("/t.safetensors");
        writeSafetensors(path.toStdString(),
            {{"x", DType::F32, {n}, std::span(reinterpret_cast<const std::byte *>(v.data()), v.size() * 4)}});
        auto model = ModelHandle::open(path.toStdString());
        const TensorInfo &t = model->tensors().front();
        const TensorStats cpu = computeTensorStats(*model, t);
        const auto gpu = computeTensorStatsOnGpu(model, t);
        QVERIFY(gpu.has_value());
        QCOMPARE(gpu->count, cpu.count);
        QCOMPARE(gpu->nanCount, cpu.nanCount);
        QCOMPARE(gpu->infCount, cpu.infCount);
        QCOMPARE(gpu->zeroFraction, cpu.zeroFraction);
        QCOMPARE(gpu->min, cpu.min);
        QCOMPARE(gpu->max, cpu.max);
        QVERIFY(std::abs(gpu->mean - cpu.mean) <= 1e-9 * std::max(1.0, std::abs(cpu.mean)));
        QVERIFY(std::abs(gpu->std - cpu.std) <= 1e-6 * cpu.std + 1e-12);
        QVERIFY(std::abs(gpu->l2 - cpu.l2) <= 1e-9 * cpu.l2);
    }

    void stories260K()
    {
        BLOCKSCOPE_REQUIRE_DATA(path, "models/stories260K/stories260K.gguf");
        auto model = ModelHandle::open(path.toStdString());
        for (const auto &t : model->tensors()) {
            const TensorStats cpu = computeTensorStats(*model, t);
            const auto gpu = computeTensorStatsOnGpu(model, t);
            QVERIFY(gpu.has_value());
            QCOMPARE(gpu->min, cpu.min);
            QCOMPARE(gpu->max, cpu.max);
            QVERIFY2(std::abs(gpu->mean - cpu.mean) < 1e-6, t.name.c_str());
            QVERIFY2(std::abs(gpu->std - cpu.std) < 1e-6 * std::max(1.0, cpu.std), t.name.c_str());
        }
    }
};

QTEST_GUILESS_MAIN(TestTensorStatsGpu)
#include "tst_tensorstats_gpu.moc"
