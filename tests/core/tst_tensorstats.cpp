// Tensor statistics and value conversion: statistics against hand-computed values (NaN, Inf,
// zeros, chunk merging), exhaustive half/bfloat16 conversion, and cancelling computeAllTensorStats.
#include "ggufbuilder.h"
#include "hostile.h"
#include "jobs/jobcontext.h"
#include "model/modelhandle.h"
#include "model/tensorstats.h"
#include "model/tensorvalues.h"
#include "safetensorsbuilder.h"
#include "testdata.h"

#include <QTest>

#include <bit>
#include <cmath>
#include <limits>
#include <stop_token>

using namespace blockscope;
using namespace blockscope::test;

namespace {

QByteArray floats(const std::vector<float> &v)
{
    QByteArray b;
    for (float x : v)
        b += leF32(x);
    return b;
}

// The tiny model (bare safetensors, no config) plus extra tensors: statistics cover every
// float-readable tensor, whatever its role.
std::shared_ptr<const ModelHandle> modelWith(const QString &name, const std::function<void(SafetensorsBuilder &)> &add)
{
    SafetensorsBuilder b = tinyLlamaSafetensors();
    add(b);
    const QString path = freshTempDir(name) + QStringLiteral("/model.safetensors");
    writeFile(path, b.build());
    return ModelHandle::open(path.toStdString());
}

struct Reference
{
    double min = INFINITY, max = -INFINITY, mean = 0, std = 0, l2 = 0, zeroFraction = 0;
    std::uint64_t nan = 0, inf = 0;
};

Reference reference(const std::vector<float> &v)
{
    Reference r;
    double sum = 0, sq = 0;
    std::uint64_t finite = 0, zeros = 0;
    for (float x : v) {
        if (std::isnan(x)) {
            ++r.nan;
        } else if (std::isinf(x)) {
            ++r.inf;
        } else {
            r.min = std::min<double>(r.min, x);
            r.max = std::max<double>(r.max, x);
            sum += x;
            sq += double(x) * x;
            zeros += x == 0;
            ++finite;
        }
    }
    r.mean = finite ? sum / finite : 0;
    double m2 = 0;
    for (float x : v)
        if (std::isfinite(x))
            m2 += (x - r.mean) * (x - r.mean);
    r.std = finite ? std::sqrt(m2 / finite) : 0;
    r.l2 = std::sqrt(sq);
    r.zeroFraction = v.empty() ? 0 : double(zeros) / v.size();
    return r;
}

bool close(double a, double b, double rel = 1e-9)
{
    return std::abs(a - b) <= rel * std::max(1.0, std::abs(b));
}

} // namespace

class TestTensorStats : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void statsMatchHandComputed_data()
    {
        QTest::addColumn<QByteArray>("values"); // float32
        const float nan = std::numeric_limits<float>::quiet_NaN(), inf = INFINITY;
        QTest::newRow("small, by hand") << floats({1, 2, 3, 4, 0, 0, -2, 0.5f});
        QTest::newRow("NaN and Inf excluded from min/max/mean") << floats({1, nan, 3, inf, -inf, 0, -1, nan});
        QTest::newRow("all zeros") << floats(std::vector<float>(100, 0.0f));
        QTest::newRow("negative zero counts as zero") << floats({-0.0f, 0.0f, 1.0f, -1.0f});
        QTest::newRow("single value") << floats({42.0f});
        QTest::newRow("large offset (cancellation)") << floats({1e6f + 1, 1e6f + 2, 1e6f + 3, 1e6f + 4});
        std::vector<float> big(3 * (1u << 20) + 123); // several chunks, merged
        for (std::size_t i = 0; i < big.size(); ++i)
            big[i] = static_cast<float>((i * 2654435761u) % 1000) / 100.0f - 3.0f + (i % 1000 == 0 ? nan : 0.0f);
        QTest::newRow("several chunks with NaNs") << floats(big);
    }

    void statsMatchHandComputed()
    {
        QFETCH(QByteArray, values);
        std::vector<float> v(static_cast<std::size_t>(values.size() / 4));
        std::memcpy(v.data(), values.constData(), static_cast<std::size_t>(values.size()));
        auto m = modelWith(QStringLiteral("stats-values"),
            [&](SafetensorsBuilder &b) { b.add("x.values", "F32", {static_cast<std::int64_t>(v.size())}, values); });
        const TensorInfo *t = m->find("x.values");
        QVERIFY(t);
        const TensorStats s = computeTensorStats(*m, *t);
        const Reference r = reference(v);
        QCOMPARE(s.count, std::uint64_t(v.size()));
        QCOMPARE(s.nanCount, r.nan);
        QCOMPARE(s.infCount, r.inf);
        QCOMPARE(s.min, r.min);
        QCOMPARE(s.max, r.max);
        QVERIFY2(close(s.mean, r.mean), qPrintable(QString::number(s.mean - r.mean)));
        QVERIFY2(close(s.std, r.std, 1e-7), qPrintable(QString::number(s.std - r.std)));
        QVERIFY(close(s.l2, r.l2));
        QCOMPARE(s.zeroFraction, r.zeroFraction);
    }

    void degenerateTensors()
    {
        const float nan = std::numeric_limits<float>::quiet_NaN();
        auto m = modelWith(QStringLiteral("stats-degenerate"), [&](SafetensorsBuilder &b) {
            b.add("x.nan", "F32", {3}, floats({nan, nan, nan}));
            b.add("x.empty", "F32", {0, 8}, {});
            b.add("x.ints", "I32", {2}, floats({1, 2}));
        });
        const TensorStats n = computeTensorStats(*m, *m->find("x.nan"));
        QCOMPARE(n.count, std::uint64_t(3));
        QCOMPARE(n.nanCount, std::uint64_t(3));
        QVERIFY(std::isnan(n.min) && std::isnan(n.max));
        QCOMPARE(n.mean, 0.0);
        QCOMPARE(n.zeroFraction, 0.0);
        const TensorStats e = computeTensorStats(*m, *m->find("x.empty"));
        QCOMPARE(e.count, std::uint64_t(0));
        QCOMPARE(e.zeroFraction, 0.0);
        QVERIFY(std::isnan(e.min));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, computeTensorStats(*m, *m->find("x.ints")));
    }

    void halfToFloatExhaustive()
    {
        for (std::uint32_t h = 0; h < 65536; ++h) {
            const int exp = (h >> 10) & 31, mant = h & 1023;
            const double sign = (h & 0x8000) ? -1.0 : 1.0;
            const float got = halfToFloat(static_cast<std::uint16_t>(h));
            if (exp == 31) {
                if (mant == 0)
                    QVERIFY(std::isinf(got) && std::signbit(got) == bool(h & 0x8000));
                else
                    QVERIFY2(std::isnan(got), qPrintable(QString::number(h, 16)));
                continue;
            }
            // Subnormals: mant * 2^-24; normals: (1024 + mant) * 2^(exp - 25).
            const double want = sign * (exp == 0 ? std::ldexp(double(mant), -24) : std::ldexp(1024.0 + mant, exp - 25));
            const float wantF = static_cast<float>(want); // exact: every half is a float
            QVERIFY2(std::bit_cast<std::uint32_t>(got) == std::bit_cast<std::uint32_t>(wantF),
                qPrintable(QStringLiteral("half 0x%1: got %2, want %3").arg(h, 4, 16).arg(got).arg(wantF)));
        }
    }

    void bfloat16ToFloatExhaustive()
    {
        for (std::uint32_t h = 0; h < 65536; ++h) {
            const float got = bfloat16ToFloat(static_cast<std::uint16_t>(h));
            QCOMPARE(std::bit_cast<std::uint32_t>(got), h << 16);
        }
    }

    void conversionsThroughReadAsFloat32_data()
    {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<QByteArray>("raw");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("F16 subnormals and limits")
            << int(DType::F16) << leU16(0x0001) + leU16(0x8200) + leU16(0x7BFF) + leU16(0xFC00)
            << floats({std::ldexp(1.0f, -24), -512 * std::ldexp(1.0f, -24), 65504.0f, -INFINITY});
        QTest::newRow("BF16 subnormal and one")
            << int(DType::BF16) << leU16(0x0001) + leU16(0x3F80) << floats({std::ldexp(1.0f, -133), 1.0f});
        double d[] = {1.0 / 3, -1e300, 5e-324};
        QTest::newRow("F64 rounded to float") << int(DType::F64) << QByteArray(reinterpret_cast<const char *>(d), 24)
                                              << floats({1.0f / 3, -INFINITY, 0.0f});
        QByteArray q8 = leU16(0x4000); // scale 2
        for (int k = 0; k < 32; ++k)
            q8 += static_cast<char>(k - 16);
        std::vector<float> q8v;
        for (int k = 0; k < 32; ++k)
            q8v.push_back(2.0f * (k - 16));
        QTest::newRow("Q8_0 one block") << int(DType::Q8_0) << q8 << floats(q8v);
    }

    void conversionsThroughReadAsFloat32()
    {
        QFETCH(int, dtype);
        QFETCH(QByteArray, raw);
        QFETCH(QByteArray, expected);
        const auto n = static_cast<std::uint64_t>(expected.size() / 4);
        const auto got = readAllAsFloat32(static_cast<DType>(dtype),
            std::as_bytes(std::span(raw.constData(), static_cast<std::size_t>(raw.size()))), n);
        QCOMPARE(QByteArray(reinterpret_cast<const char *>(got.data()), expected.size()), expected);
    }

    void q8PartialBlocksRefused()
    {
        QByteArray q8(68, '\0');
        const auto raw = std::as_bytes(std::span(q8.constData(), 68));
        float out[64];
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, readAsFloat32(DType::Q8_0, raw, 16, 32, out));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, readAsFloat32(DType::Q8_0, raw, 0, 40, out));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, readAsFloat32(DType::I32, raw, 0, 1, out));
    }

    void computeAllFillsTheCache()
    {
        auto m = modelWith(QStringLiteral("stats-all"), [](SafetensorsBuilder &b) {
            b.add("x.ints", "I64", {1}, QByteArray(8, '\1')); // not float-readable: skipped
        });
        TensorStatsCache cache;
        std::vector<double> fractions;
        std::stop_source stop;
        JobContext job(stop.get_token(), {}, [&](double f) { fractions.push_back(f); });
        computeAllTensorStats(*m, cache, job);
        QCOMPARE(cache.size(), std::size_t(12));
        QVERIFY(!cache.find("x.ints"));
        QVERIFY(!fractions.empty());
        QCOMPARE(fractions.back(), 1.0);
        for (std::size_t i = 1; i < fractions.size(); ++i)
            QVERIFY(fractions[i] >= fractions[i - 1]);
        const auto direct = computeTensorStats(*m, *m->find("model.norm.weight"));
        QCOMPARE(cache.find("model.norm.weight")->mean, direct.mean);
    }

    void cancel_data()
    {
        QTest::addColumn<bool>("beforeStart");
        QTest::addColumn<int>("keptAfterCancel");
        QTest::newRow("stop requested before the run") << true << 0;
        QTest::newRow("stop requested while running") << false << 1;
    }

    void cancel()
    {
        QFETCH(bool, beforeStart);
        QFETCH(int, keptAfterCancel);
        auto m = modelWith(QStringLiteral("stats-cancel"), [](SafetensorsBuilder &) {});
        TensorStatsCache cache;
        std::stop_source stop;
        if (beforeStart)
            stop.request_stop();
        // The first progress report comes from inside the first tensor; stopping there lets that
        // tensor finish and stops the run at the next tensor's first chunk.
        JobContext job(stop.get_token(), {}, [&](double) { stop.request_stop(); });
        QVERIFY_THROWS_EXCEPTION(JobCancelled, computeAllTensorStats(*m, cache, job));
        QCOMPARE(cache.size(), std::size_t(keptAfterCancel));
        auto kept = cache.snapshot();
        // Mark what was kept, so that recomputing it (which gives the same numbers) would show.
        for (auto &[name, s] : kept) {
            s.mean = -12345.0;
            cache.insert(name, s);
        }

        // A fresh run computes only what is missing and leaves what was kept untouched.
        std::stop_source again;
        JobContext resume(again.get_token());
        computeAllTensorStats(*m, cache, resume);
        QCOMPARE(cache.size(), std::size_t(12));
        for (const auto &[name, s] : kept)
            QCOMPARE(cache.find(name)->mean, -12345.0);
    }

    void cancelInsideALargeTensor()
    {
        // A tensor of several chunks stops between chunks, not at its end.
        auto m = modelWith(QStringLiteral("stats-cancel-large"),
            [](SafetensorsBuilder &b) { b.add("a.large", "F32", {3 << 20}, f32Ramp(3u << 20)); });
        std::stop_source stop;
        int reports = 0;
        JobContext job(stop.get_token(), {}, [&](double) {
            ++reports;
            stop.request_stop();
        });
        QVERIFY_THROWS_EXCEPTION(JobCancelled, computeTensorStats(*m, *m->find("a.large"), &job));
        QCOMPARE(reports, 1);
    }
};

QTEST_GUILESS_MAIN(TestTensorStats)
#include "tst_tensorstats.moc"
