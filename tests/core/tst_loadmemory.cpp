// Loading a quantised model for compute: the resident set grows by no more than its weights at the
// compute dtype plus its largest single tensor (the bound), measured as the process's peak
// resident set (VmHWM, reset through /proc/self/clear_refs) over the resident set before loading.
// Opening reads metadata only; computing statistics streams with bounded memory.
#include "model/decoder.h"
#include "model/modelhandle.h"
#include "model/tensorstats.h"
#include "testdata.h"

#include <QElapsedTimer>
#include <QFile>
#include <QTest>

#include <ATen/ATen.h>

#include <fstream>

using namespace blockscope;
using namespace blockscope::test;

namespace {

// A /proc/self/status field in bytes.
std::uint64_t statusBytes(const char *field)
{
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::string key = std::string(field) + ":";
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0)
            return std::stoull(line.substr(key.size())) * 1024;
    return 0;
}

bool resetPeak()
{
    std::ofstream out("/proc/self/clear_refs");
    out << "5";
    out.flush();
    return static_cast<bool>(out);
}

struct LoadFigures
{
    std::uint64_t weights = 0; // parameters at the compute dtype (the tied head once)
    std::uint64_t largest = 0; // the largest tensor at the compute dtype
};

LoadFigures figures(const ModelHandle &m, std::uint64_t elementBytes)
{
    LoadFigures f;
    for (const auto &t : m.tensors()) {
        f.weights += t.elementCount() * elementBytes;
        f.largest = std::max<std::uint64_t>(f.largest, t.elementCount() * elementBytes);
    }
    return f;
}

} // namespace

class TestLoadMemory : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void quantisedLoadStaysWithinWeightsPlusLargestTensor_data()
    {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<int>("elementBytes");
        QTest::newRow("float32") << int(at::kFloat) << 4;
        QTest::newRow("bfloat16") << int(at::kBFloat16) << 2;
    }

    void quantisedLoadStaysWithinWeightsPlusLargestTensor()
    {
        QFETCH(int, dtype);
        QFETCH(int, elementBytes);
        BLOCKSCOPE_REQUIRE_SMOLLM2(path);
        const auto model = ModelHandle::open(path.toStdString());
        const LoadFigures f = figures(*model, static_cast<std::uint64_t>(elementBytes));
        const std::uint64_t before = statusBytes("VmRSS");
        if (!resetPeak())
            QSKIP("/proc/self/clear_refs cannot be written here, so the peak cannot be reset");
        QElapsedTimer timer;
        timer.start();
        Decoder decoder(model, DecoderOptions{c10::Device(c10::kCPU), static_cast<c10::ScalarType>(dtype)});
        const qint64 ms = timer.elapsed();
        const std::uint64_t peak = statusBytes("VmHWM");
        const std::uint64_t after = statusBytes("VmRSS");
        const double mib = 1024.0 * 1024.0;
        qInfo("SmolLM2 Q4_1 -> %s: loaded in %lld ms; weights %.1f MiB + largest tensor %.1f MiB = %.1f MiB; "
              "resident before %.1f MiB, peak %.1f MiB (+%.1f MiB), after %.1f MiB (+%.1f MiB); decoder owns %.1f MiB",
            dtype == int(at::kFloat) ? "float32" : "bfloat16", static_cast<long long>(ms), f.weights / mib,
            f.largest / mib, (f.weights + f.largest) / mib, before / mib, peak / mib, (peak - before) / mib,
            after / mib, (after - before) / mib, decoder.ownedWeightBytes() / mib);
        QVERIFY(decoder.ownedWeightBytes() <= f.weights);
        QVERIFY2(peak - before <= f.weights + f.largest,
            qPrintable(QStringLiteral("peak grew by %1 MiB, over the %2 MiB bound")
                           .arg((peak - before) / mib)
                           .arg((f.weights + f.largest) / mib)));
    }

    void openingReadsMetadataOnly()
    {
        BLOCKSCOPE_REQUIRE_SMOLLM2(path);
        const std::uint64_t before = statusBytes("VmRSS");
        QElapsedTimer timer;
        timer.start();
        const auto model = ModelHandle::open(path.toStdString());
        const qint64 ms = timer.elapsed();
        const std::uint64_t after = statusBytes("VmRSS");
        qInfo("opened SmolLM2 (%zu tensors) in %lld ms, resident +%.1f MiB", model->tensors().size(),
            static_cast<long long>(ms), (after - before) / (1024.0 * 1024.0));
        // The 49,152-token vocabulary is metadata (a few MB); the 98 MB of tensor data is not read.
        QVERIFY(after - before < 40ull * 1024 * 1024);
    }

    void statisticsStreamWithBoundedMemory()
    {
        BLOCKSCOPE_REQUIRE_SMOLLM2(path);
        const auto model = ModelHandle::open(path.toStdString());
        const std::uint64_t before = statusBytes("VmRSS");
        if (!resetPeak())
            QSKIP("/proc/self/clear_refs cannot be written here");
        std::uint64_t bytes = 0;
        for (const auto &t : model->tensors()) {
            computeTensorStats(*model, t);
            bytes += t.bytes;
        }
        const std::uint64_t peak = statusBytes("VmHWM");
        qInfo("statistics of %.1f MiB of tensors: peak resident +%.1f MiB", bytes / 1048576.0,
            (peak - before) / 1048576.0);
        // One chunk buffer (4 MiB of float32) and the chunk's pages, not the file.
        QVERIFY(peak - before < 32ull * 1024 * 1024);
    }
};

QTEST_GUILESS_MAIN(TestLoadMemory)
#include "tst_loadmemory.moc"
