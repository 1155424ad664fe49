// ggml block formats against the `gguf` Python package (tests/fixtures/make_gguf_quant_fixtures.py):
// dequantisation of every format and quantisation to Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1, bit for bit,
// float16 / bfloat16 conversion, and the refusals of quantiseTensor.
#include "common/mappedfile.h"
#include "model/checkpointreaders.h"
#include "model/ggmlquants.h"
#include "model/tensorinfo.h"
#include "testdata.h"

#include <QTest>

#include <gguf_blocks.cuh>

#include <nlohmann/json.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <map>
#include <random>

using namespace blockscope;
using namespace blockscope::test;

namespace {

struct Fixture
{
    std::shared_ptr<const MappedFile> file;
    std::map<std::string, TensorInfo> tensors;
    nlohmann::json rows;

    std::span<const std::byte> bytes(const std::string &name) const
    {
        const auto it = tensors.find(name);
        if (it == tensors.end())
            throw std::runtime_error("fixture tensor " + name + " is missing");
        return file->bytes().subspan(it->second.offset, it->second.bytes);
    }
    std::vector<std::int64_t> shape(const std::string &name) const { return tensors.at(name).shape; }
    template<typename T>
    std::vector<T> values(const std::string &name) const
    {
        const auto b = bytes(name);
        std::vector<T> v(b.size() / sizeof(T));
        std::memcpy(v.data(), b.data(), b.size());
        return v;
    }
};

const Fixture &fixture()
{
    static Fixture f = [] {
        Fixture x;
        const QString path = sourceDir() + QStringLiteral("/tests/fixtures/quants/gguf_quants.safetensors");
        x.file = MappedFile::open(path.toStdString());
        std::vector<std::string> warnings;
        std::map<std::string, std::string> meta;
        for (auto &t : readSafetensorsTensors(*x.file, warnings, &meta))
            x.tensors.emplace(t.name, std::move(t));
        x.rows = nlohmann::json::parse(meta.at("rows"));
        return x;
    }();
    return f;
}

QString rowName(const std::string &key, std::size_t row)
{
    const auto &rows = fixture().rows;
    if (rows.contains(key) && row < rows[key].size())
        return QString::fromStdString(rows[key][row].get<std::string>());
    return QString::number(row);
}

const GgmlTypeInfo *typeNamed(const QString &name)
{
    for (std::uint32_t id = 0; id < 64; ++id)
        if (const auto *t = ggmlTypeById(id); t && name == QLatin1String(t->name))
            return t;
    return nullptr;
}

std::uint32_t bitsOf(float f)
{
    return std::bit_cast<std::uint32_t>(f);
}

} // namespace

class TestGgmlQuants : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void dequantiseEqualsReference_data()
    {
        QTest::addColumn<QString>("type");
        for (const char *t :
            {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"})
            QTest::newRow(t) << QString::fromLatin1(t);
    }

    void dequantiseEqualsReference()
    {
        QFETCH(QString, type);
        const std::string key = "dequant." + type.toStdString();
        const Fixture &f = fixture();
        const GgmlTypeInfo *info = typeNamed(type);
        QVERIFY(info);
        QVERIFY(canDequantise(info->dtype));
        const auto blocks = f.bytes(key + ".blocks");
        const auto expected = f.values<float>(key + ".values");
        const auto n = static_cast<std::uint64_t>(f.shape(key + ".blocks")[0]);
        QCOMPARE(static_cast<std::uint64_t>(f.shape(key + ".blocks")[1]), info->blockBytes);
        QCOMPARE(expected.size(), n * info->blockElements);

        std::vector<float> got(expected.size(), -1.0f);
        dequantiseBlocks(info->dtype, blocks.data(), n, got.data());
        for (std::uint64_t i = 0; i < got.size(); ++i) {
            if (bitsOf(got[i]) != bitsOf(expected[i]))
                QFAIL(qPrintable(QStringLiteral("%1 block %2 (%3), element %4: %5 (0x%6), reference %7 (0x%8)")
                                     .arg(type)
                                     .arg(i / info->blockElements)
                                     .arg(rowName(key, i / info->blockElements))
                                     .arg(i % info->blockElements)
                                     .arg(double(got[i]))
                                     .arg(bitsOf(got[i]), 8, 16, QLatin1Char('0'))
                                     .arg(double(expected[i]))
                                     .arg(bitsOf(expected[i]), 8, 16, QLatin1Char('0'))));
        }
        // The per-value formula the GPU kernel runs, one thread per value (kernels/gguf_blocks.cuh),
        // gives the same bits as the block loops.
        bool known = false;
        bs_gguf::with_format(static_cast<int>(info->id), [&](auto format) {
            using F = decltype(format);
            known = F::elements == static_cast<int>(info->blockElements)
                && F::bytes == static_cast<int>(info->blockBytes);
            const auto *b = reinterpret_cast<const std::uint8_t *>(blocks.data());
            for (std::uint64_t i = 0; i < got.size(); ++i) {
                const float v
                    = bs_gguf::value_at<F>(b + (i / F::elements) * F::bytes, static_cast<int>(i % F::elements));
                if (bitsOf(v) != bitsOf(expected[i])) {
                    known = false;
                    qWarning("%s value %llu: per-value formula %g, reference %g", qPrintable(type),
                        static_cast<unsigned long long>(i), double(v), double(expected[i]));
                    return;
                }
            }
        });
        QVERIFY2(
            known, "the GPU kernel's per-value formula differs from the reference (or its geometry from the table)");
        // Dequantising one block at a time gives the same values as the whole run.
        std::vector<float> one(info->blockElements);
        dequantiseBlocks(info->dtype, blocks.data() + (n - 1) * info->blockBytes, 1, one.data());
        QVERIFY(std::memcmp(one.data(), got.data() + (n - 1) * info->blockElements, one.size() * 4) == 0);
    }

    void quantiseEqualsReference_data()
    {
        QTest::addColumn<QString>("type");
        for (const char *t : {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"})
            QTest::newRow(t) << QString::fromLatin1(t);
    }

    void quantiseEqualsReference()
    {
        QFETCH(QString, type);
        const std::string key = "quant." + type.toStdString();
        const Fixture &f = fixture();
        const GgmlTypeInfo *info = typeNamed(type);
        QVERIFY(info);
        QVERIFY(canQuantise(info->dtype));
        const auto values = f.values<float>(key + ".values");
        const auto expected = f.bytes(key + ".blocks");
        const auto n = values.size() / info->blockElements;
        QCOMPARE(expected.size(), n * info->blockBytes);
        std::vector<std::byte> got(expected.size());
        quantiseBlocks(info->dtype, values.data(), n, got.data());
        const bool hasMinimum = info->dtype == DType::Q4_1 || info->dtype == DType::Q5_1;
        for (std::uint64_t b = 0; b < n; ++b) {
            const auto *want = expected.data() + b * info->blockBytes;
            const auto *have = got.data() + b * info->blockBytes;
            // The one allowed difference: the sign of a zero block minimum (bytes 2-3), which numpy's
            // SIMD reduction picks by lane order; ggml's reference takes the first zero, as we do.
            const auto u16At
                = [](const std::byte *p) { return std::to_integer<int>(p[2]) | std::to_integer<int>(p[3]) << 8; };
            const bool zeroMinimumSign = hasMinimum && (u16At(want) & 0x7FFF) == 0 && (u16At(have) & 0x7FFF) == 0;
            for (std::uint64_t k = 0; k < info->blockBytes; ++k)
                if (want[k] != have[k] && !(zeroMinimumSign && k == 3))
                    QFAIL(qPrintable(QStringLiteral("%1 block %2 (%3), byte %4: 0x%5, reference 0x%6")
                                         .arg(type)
                                         .arg(b)
                                         .arg(rowName(key, b))
                                         .arg(k)
                                         .arg(std::to_integer<int>(have[k]), 2, 16, QLatin1Char('0'))
                                         .arg(std::to_integer<int>(want[k]), 2, 16, QLatin1Char('0'))));
        }
        // Whatever the bytes, the values they stand for are the reference's, bit for bit.
        std::vector<float> fromOurs(values.size()), fromReference(values.size());
        dequantiseBlocks(info->dtype, got.data(), n, fromOurs.data());
        dequantiseBlocks(info->dtype, expected.data(), n, fromReference.data());
        for (std::size_t i = 0; i < values.size(); ++i)
            QVERIFY2(bitsOf(fromOurs[i]) == bitsOf(fromReference[i])
                    || (std::isnan(fromOurs[i]) && std::isnan(fromReference[i])),
                qPrintable(QStringLiteral("%1 block %2 element %3 dequantises differently")
                               .arg(type)
                               .arg(i / 32)
                               .arg(i % 32)));
    }

    // Quantise then dequantise stays within half a step of the block's grid; the symmetric formats
    // (scale from the signed extreme) clip the far end of the other sign, so one step there.
    void roundTripIsWithinAStep_data()
    {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<double>("steps"); // grid steps across the block's range
        QTest::addColumn<double>("allowed"); // in steps
        QTest::newRow("Q8_0") << int(DType::Q8_0) << 254.0 << 0.5;
        QTest::newRow("Q4_0") << int(DType::Q4_0) << 16.0 << 1.0;
        QTest::newRow("Q4_1") << int(DType::Q4_1) << 15.0 << 0.5;
        QTest::newRow("Q5_0") << int(DType::Q5_0) << 32.0 << 1.0;
        QTest::newRow("Q5_1") << int(DType::Q5_1) << 31.0 << 0.5;
    }

    void roundTripIsWithinAStep()
    {
        QFETCH(int, dtype);
        QFETCH(double, steps);
        QFETCH(double, allowed);
        const auto type = static_cast<DType>(dtype);
        std::mt19937 rng(7);
        std::normal_distribution<float> normal(0.0f, 0.05f);
        std::vector<float> x(32 * 64);
        for (auto &v : x)
            v = normal(rng);
        const auto *info = ggmlTypeFor(type);
        std::vector<std::byte> q(x.size() / 32 * info->blockBytes);
        quantiseBlocks(type, x.data(), x.size() / 32, q.data());
        std::vector<float> y(x.size());
        dequantiseBlocks(type, q.data(), x.size() / 32, y.data());
        const bool symmetric = type == DType::Q8_0 || type == DType::Q4_0 || type == DType::Q5_0;
        for (std::size_t b = 0; b < x.size() / 32; ++b) {
            float lo = x[b * 32], hi = lo;
            for (int i = 0; i < 32; ++i) {
                lo = std::min(lo, x[b * 32 + i]);
                hi = std::max(hi, x[b * 32 + i]);
            }
            const double range = symmetric ? 2.0 * std::max(std::fabs(lo), std::fabs(hi)) : double(hi) - double(lo);
            const double step = range / steps;
            // Plus the float16 rounding of the scale (and minimum): 2^-11 relative.
            const double tol = allowed * step * 1.001 + range * 1e-3;
            for (int i = 0; i < 32; ++i)
                QVERIFY2(std::fabs(double(y[b * 32 + i]) - double(x[b * 32 + i])) <= tol,
                    qPrintable(QStringLiteral("block %1 element %2: %3 -> %4")
                                   .arg(b)
                                   .arg(i)
                                   .arg(x[b * 32 + i])
                                   .arg(y[b * 32 + i])));
        }
    }

    void halfAndBfloat16EqualReference()
    {
        const Fixture &f = fixture();
        const auto values = f.values<float>("convert.values");
        const auto half = f.values<std::uint16_t>("convert.half");
        const auto bf16 = f.values<std::uint16_t>("convert.bf16");
        QCOMPARE(half.size(), values.size());
        QCOMPARE(bf16.size(), values.size());
        for (std::size_t i = 0; i < values.size(); ++i) {
            QVERIFY2(floatToHalf(values[i]) == half[i],
                qPrintable(QStringLiteral("binary16 of %1 (0x%2): 0x%3, numpy 0x%4")
                               .arg(double(values[i]), 0, 'g', 9)
                               .arg(bitsOf(values[i]), 8, 16, QLatin1Char('0'))
                               .arg(floatToHalf(values[i]), 4, 16, QLatin1Char('0'))
                               .arg(half[i], 4, 16, QLatin1Char('0'))));
            QVERIFY2(floatToBfloat16(values[i]) == bf16[i],
                qPrintable(QStringLiteral("bfloat16 of %1: 0x%2, gguf 0x%3")
                               .arg(double(values[i]), 0, 'g', 9)
                               .arg(floatToBfloat16(values[i]), 4, 16, QLatin1Char('0'))
                               .arg(bf16[i], 4, 16, QLatin1Char('0'))));
        }
        // NaN stays NaN in both.
        QVERIFY((floatToHalf(std::nanf("")) & 0x7FFF) > 0x7C00);
        QVERIFY((floatToBfloat16(std::nanf("")) & 0x7FFF) > 0x7F80);
    }

    void typeTable()
    {
        QVERIFY(!ggmlTypeById(4)); // Q4_2, removed from ggml
        QVERIFY(!ggmlTypeById(1000));
        QCOMPARE(QString::fromLatin1(ggmlTypeById(12)->name), QStringLiteral("Q4_K"));
        QCOMPARE(ggmlTypeFor(DType::Q4_1)->id, 3u);
        QCOMPARE(*dtypeBitsPerWeight(DType::Q4_1), 5.0);
        QCOMPARE(*dtypeBitsPerWeight(DType::Q4_K), 4.5);
        QCOMPARE(*dtypeBitsPerWeight(DType::Q6_K), 6.5625);
        QCOMPARE(*dtypeBitsPerWeight(DType::Q8_0), 8.5);
        QCOMPARE(*dtypeBitsPerWeight(DType::BF16), 16.0);
        QVERIFY(!canQuantise(DType::Q4_K));
        QVERIFY(!canDequantise(DType::F32));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, dequantiseBlocks(DType::F32, nullptr, 0, nullptr));
    }

    // quantiseTensor refuses what the format cannot hold, naming the tensor.
    void quantiseTensorRefuses_data()
    {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<QList<qint64>>("shape");
        QTest::addColumn<float>("poison");
        QTest::addColumn<QString>("expect");
        QTest::newRow("ragged last row") << int(DType::Q4_0) << QList<qint64>{4, 48} << 0.0f << "multiple of 32";
        QTest::newRow("K-quant not written") << int(DType::Q4_K) << QList<qint64>{1, 256} << 0.0f << "Q4_K";
        QTest::newRow("NaN value") << int(DType::Q8_0) << QList<qint64>{2, 32} << std::nanf("") << "not finite";
        QTest::newRow("infinite value") << int(DType::Q4_1) << QList<qint64>{2, 32} << INFINITY << "not finite";
        QTest::newRow("scalar") << int(DType::Q8_0) << QList<qint64>{} << 0.0f << "no dimensions";
    }

    void quantiseTensorRefuses()
    {
        QFETCH(int, dtype);
        QFETCH(QList<qint64>, shape);
        QFETCH(float, poison);
        QFETCH(QString, expect);
        std::vector<std::int64_t> s(shape.begin(), shape.end());
        std::int64_t n = 1;
        for (auto d : s)
            n *= d;
        std::vector<float> values(static_cast<std::size_t>(n), 0.25f);
        if (poison != 0.0f)
            values[values.size() / 2] = poison;
        try {
            quantiseTensor("model.layers.3.mlp.up_proj.weight", static_cast<DType>(dtype), s, values);
            QFAIL("quantiseTensor accepted it");
        } catch (const std::invalid_argument &e) {
            const QString what = QString::fromUtf8(e.what());
            QVERIFY2(what.contains(QStringLiteral("model.layers.3.mlp.up_proj.weight")), e.what());
            QVERIFY2(what.contains(expect), e.what());
        }
    }

    void quantiseTensorWritesRows()
    {
        std::vector<float> values(3 * 64);
        for (std::size_t i = 0; i < values.size(); ++i)
            values[i] = std::sin(float(i));
        const auto q = quantiseTensor("w", DType::Q4_1, {3, 64}, values);
        QCOMPARE(q.size(), std::size_t(6 * 20));
        std::vector<std::byte> direct(q.size());
        quantiseBlocks(DType::Q4_1, values.data(), 6, direct.data());
        QVERIFY(q == direct);
    }
};

QTEST_GUILESS_MAIN(TestGgmlQuants)
#include "tst_ggmlquants.moc"
