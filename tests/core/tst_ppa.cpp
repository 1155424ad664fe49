// PPA against ppa.md and issue 6's proof list: parameter and byte counts of stories260K and of tiny
// configurations for every mask against hand-computed values, FLOPs of one block against a hand
// derivation, the roofline, Pareto frontiers on hand-made sets, the device table (built in, a
// user's, malformed ones refused), energy counters that fall back to the model and say so, and
// measurements on a tiny model (the K/V-cache decode equals full forwards).
#include "common/formaterror.h"
#include "jobs/ppajob.h"
#include "model/decoder.h"
#include "model/modelhandle.h"
#include "ppa/ppa.h"
#include "testdata.h"
#include "tinymodel.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <QDir>
#include <QFile>
#include <QTest>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace blockscope;
using namespace blockscope::ppa;
using namespace blockscope::test;

namespace {

UnitMask maskFromBits(int layers, unsigned bits)
{
    UnitMask m = UnitMask::dense(layers);
    for (int l = 0; l < layers; ++l) {
        m.skipAttn[l] = (bits >> l) & 1U;
        m.skipMlp[l] = (bits >> (layers + l)) & 1U;
    }
    return m;
}

int count(const std::vector<bool> &v)
{
    return static_cast<int>(std::count(v.begin(), v.end(), true));
}

void writeFile(const std::filesystem::path &p, const std::string &text)
{
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
}

DeviceSpec toyDevice()
{
    DeviceSpec d;
    d.name = "toy";
    d.kind = "cpu";
    d.peakFlops["float32"] = 1e9;
    d.bandwidth = 1e9;
    d.joulesPerFlop = 1e-9;
    d.joulesPerByte = 2e-9;
    return d;
}

} // namespace

class TestPpa : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { at::set_num_threads(1); }

    // stories260K: d 64, 8 heads of 8 (4 KV heads), MLP 172, vocabulary 512, tied, 5 blocks.
    // By hand: attention = q 64·64 + k 64·32 + v 64·32 + o 64·64 + norm 64 = 12,352;
    // MLP = 3·64·172 + norm 64 = 33,088; embedding 512·64 = 32,768; final norm 64;
    // total 32,768 + 5·(12,352 + 33,088) + 64 = 260,032. Every weight is F32 (4 bytes).
    void storiesCountsForEveryMask()
    {
        BLOCKSCOPE_REQUIRE_DATA(path, QStringLiteral("models/stories260K/stories260K.bin"));
        auto model = ModelHandle::open(path.toStdString());
        Workload w;
        for (unsigned bits = 0; bits < (1U << 10); ++bits) {
            const UnitMask mask = maskFromBits(5, bits);
            const CostModel c = analyticCosts(model->architecture(), model->tensors(), mask, w);
            const std::int64_t kept = 260032 - 12352 * count(mask.skipAttn) - 33088 * count(mask.skipMlp);
            QCOMPARE(c.paramsTotal, std::int64_t(260032));
            QCOMPARE(c.paramsKept, kept);
            QCOMPARE(c.storedBytes, 4.0 * static_cast<double>(kept));
            QCOMPARE(c.storedBytesByDtype.size(), std::size_t(1));
            QCOMPARE(c.storedBytesByDtype.at("F32"), 4.0 * static_cast<double>(kept));
            // K and V: 2 · 4 heads · 8 · 4 bytes per kept attention sublayer.
            QCOMPARE(c.kvBytesPerToken, 256.0 * (5 - count(mask.skipAttn)));
        }
        // bfloat16 compute halves the weights a forward reads, not the stored bytes.
        w.dtype = "bfloat16";
        const CostModel bf = analyticCosts(model->architecture(), model->tensors(), UnitMask::dense(5), w);
        QCOMPARE(bf.computeBytes, 2.0 * 260032);
        QCOMPARE(bf.storedBytes, 4.0 * 260032);
        QCOMPARE(bf.kvBytesPerToken, 128.0 * 5);
    }

    // Tiny configurations without a checkpoint: the formulas (biases included) for every mask.
    void tinyCountsForEveryMask_data()
    {
        QTest::addColumn<bool>("qkvBias");
        QTest::addColumn<bool>("tied");
        QTest::newRow("llama, untied") << false << false;
        QTest::newRow("qwen2 biases, tied") << true << true;
    }
    void tinyCountsForEveryMask()
    {
        QFETCH(bool, qkvBias);
        QFETCH(bool, tied);
        Architecture a = tinyArchitecture({.layers = 3}); // d 32, 4 heads of 8, 2 KV heads, MLP 64, V 64
        a.qkvBias = qkvBias;
        a.tiedEmbeddings = tied;
        // attention 32·32 + 2·32·16 + 32·32 + 32 (+ 32 + 2·16 biases) = 3,104 (+64); MLP 3·32·64 + 32 = 6,176.
        const std::int64_t attn = 3104 + (qkvBias ? 64 : 0), mlp = 6176;
        const std::int64_t fixed = 64 * 32 + 32 + (tied ? 0 : 64 * 32);
        for (unsigned bits = 0; bits < (1U << 6); ++bits) {
            const UnitMask mask = maskFromBits(3, bits);
            const CostModel c = analyticCosts(a, {}, mask, Workload{});
            QCOMPARE(c.paramsKept, fixed + attn * (3 - count(mask.skipAttn)) + mlp * (3 - count(mask.skipMlp)));
            QCOMPARE(c.paramsTotal, fixed + 3 * (attn + mlp));
        }
        // The formulas agree with the weights a decoder is built from.
        if (!qkvBias) {
            std::int64_t n = 0;
            for (const auto &[name, t] : tinyWeights({.layers = 3}, 1))
                n += t.numel();
            QCOMPARE(analyticCosts(a, {}, UnitMask::dense(3), Workload{}).paramsTotal, n);
        }
    }

    // Grouping by block: kept parts summed, a figure measured only when every kept part was and
    // unknown when any is, a block removed only when both sublayers are.
    void unitsByBlockSumsKeptParts()
    {
        auto unit = [](const std::string &name, int layer, bool removed, std::int64_t params, Figure seconds) {
            UnitCost u;
            u.unit = name;
            u.layer = layer;
            u.removed = removed;
            u.params = params;
            u.prefillFlopsPerToken = 2.0 * static_cast<double>(params);
            u.seconds = seconds;
            return u;
        };
        const Figure measured{1.0, 0.9, 1.1, 5, Provenance::Measured, ""};
        const std::vector<UnitCost> units{unit("embedding", -1, false, 100, {}), unit("attn 0", 0, false, 10, measured),
            unit("mlp 0", 0, false, 20, Figure::modelled(2.0)), unit("attn 1", 1, false, 10, measured),
            unit("mlp 1", 1, false, 20, Figure{}), unit("attn 2", 2, true, 10, measured),
            unit("mlp 2", 2, true, 20, measured), unit("attn 3", 3, false, 10, measured),
            unit("mlp 3", 3, true, 20, measured), unit("lm_head", -1, false, 100, {})};
        const auto blocks = unitsByBlock(units);
        QCOMPARE(blocks.size(), std::size_t(6));
        QCOMPARE(blocks[0].unit, std::string("embedding"));
        QCOMPARE(blocks[1].unit, std::string("block 0"));
        QCOMPARE(blocks[1].params, std::int64_t(30));
        QCOMPARE(blocks[1].prefillFlopsPerToken, 60.0);
        QCOMPARE(blocks[1].seconds.value, 3.0);
        QCOMPARE(blocks[1].seconds.provenance, Provenance::Modelled); // one part was modelled
        QVERIFY(!blocks[2].seconds.known()); // mlp 1 was not measured
        QVERIFY(blocks[3].removed);
        QCOMPARE(blocks[3].params, std::int64_t(0));
        QVERIFY(!blocks[4].removed);
        QCOMPARE(blocks[4].unit, std::string("block 3 (mlp removed)"));
        QCOMPARE(blocks[4].params, std::int64_t(10));
        QCOMPARE(blocks[4].seconds.value, 1.0);
        QCOMPARE(blocks[4].seconds.provenance, Provenance::Measured);
        QCOMPARE(blocks[5].unit, std::string("lm_head"));
    }

    // One block, d 32, 4 heads of 8, 2 KV heads, MLP 64, seq 16, dense attention. Per token:
    // attention projections 2·32·(32 + 2·16) + 2·32·32 = 6,144; norm 4·32, RoPE 3·(4+2)·8,
    // residual 32 = 304; QKᵀ and PV over the mean causal context (16+1)/2 = 8.5 keys:
    // 4·4·8·8.5 = 1,088; softmax 3·4·8.5 = 102. Total 7,638.
    // MLP: 6·32·64 = 12,288; SiLU and product 5·64 = 320; norm 128; residual 32. Total 12,768.
    void flopsOfOneBlock()
    {
        const Architecture a = tinyArchitecture({.layers = 1});
        Workload w;
        w.seq = 16;
        w.decodeTokens = 0;
        const CostModel c = analyticCosts(a, {}, UnitMask::dense(1), w);
        QCOMPARE(c.units[1].unit, std::string("attn 0"));
        QCOMPARE(c.units[1].prefillFlopsPerToken, 7638.0);
        QCOMPARE(c.units[2].unit, std::string("mlp 0"));
        QCOMPARE(c.units[2].prefillFlopsPerToken, 12768.0);
        // LM head: 2·32·64 + final norm 4·32 = 4,224; the embedding costs no FLOPs.
        QCOMPARE(c.units[3].prefillFlopsPerToken, 4224.0);
        QCOMPARE(c.units[0].prefillFlopsPerToken, 0.0);
        QCOMPARE(c.prefillFlopsPerToken, 7638.0 + 12768.0 + 4224.0);
        // Decode at context 16: 4·4·8·16 + 3·4·16 replaces the prefill context.
        QCOMPARE(c.units[1].decodeFlopsPerToken, 6144.0 + 304 + 4 * 4 * 8 * 16 + 3 * 4 * 16);
        // Half-density sparse attention halves exactly the context-dependent part.
        w.attentionDensity = 0.5;
        const CostModel s = analyticCosts(a, {}, UnitMask::dense(1), w);
        QCOMPARE(s.units[1].prefillFlopsPerToken, 6144.0 + 304 + 4 * 4 * 8 * 4.25 + 3 * 4 * 4.25);
        // Removing the MLP removes its FLOPs.
        UnitMask noMlp = UnitMask::dense(1);
        noMlp.skipMlp[0] = true;
        QCOMPARE(analyticCosts(a, {}, noMlp, w).prefillFlopsPerToken, s.prefillFlopsPerToken - 12768.0);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, analyticCosts(a, {}, UnitMask::dense(2), w));
    }

    void roofline()
    {
        CostModel c;
        c.prefillFlopsPerToken = 4e6;
        c.prefillBytesPerToken = 1e6;
        c.decodeFlopsPerToken = 1e6;
        c.decodeBytesPerToken = 8e6;
        const Prediction p = predict(c, toyDevice(), Workload{});
        QCOMPARE(p.prefillTokensPerSecond, 1e9 / 4e6); // compute bound: 4 ms per token
        QVERIFY(p.prefillComputeBound);
        QCOMPARE(p.decodeMsPerToken, 8.0); // memory bound: 8e6 B at 1 GB/s
        QVERIFY(!p.decodeComputeBound);
        QCOMPARE(p.prefillJoulesPerToken, 4e6 * 1e-9 + 1e6 * 2e-9);
        Workload bf;
        bf.dtype = "bfloat16";
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, predict(c, toyDevice(), bf));
    }

    void pareto()
    {
        // Minimise both: (1,5) (2,3) (3,4)x (4,1) (2,3) duplicate, (5,5)x.
        const std::vector<double> x{1, 2, 3, 4, 2, 5}, y{5, 3, 4, 1, 3, 5};
        QCOMPARE(paretoFrontier(x, y, true, true), (std::vector<std::size_t>{0, 1, 3}));
        // Maximise x (throughput), minimise y (perplexity).
        const std::vector<double> tps{100, 200, 150, 300}, ppl{10, 12, 11, 20};
        QCOMPARE(paretoFrontier(tps, ppl, false, true), (std::vector<std::size_t>{0, 2, 1, 3}));
        // A point worse on both is off the frontier; NaN points are ignored.
        const std::vector<double> a{1, 2, NAN}, b{1, 2, 0};
        QCOMPARE(paretoFrontier(a, b, true, true), (std::vector<std::size_t>{0}));
        QVERIFY(paretoFrontier({}, {}, true, true).empty());
    }

    void deviceTable()
    {
        const DeviceTable t = DeviceTable::builtIn();
        QVERIFY(t.devices.size() >= 7);
        for (const char *name : {"H100 SXM", "H200", "A100 80GB SXM", "L4", "RTX 4090"})
            QVERIFY2(t.find(name), name);
        QCOMPARE(t.find("h100")->name, std::string("H100 SXM"));
        QCOMPARE(t.find("rtx4090")->name, std::string("RTX 4090"));
        QVERIFY(!t.find("A")); // ambiguous
        QVERIFY(!t.find("TPU v5"));
        for (const DeviceSpec &d : t.devices) {
            QVERIFY(d.peakFlops.count("float32"));
            QVERIFY2(d.sources.count("peak_tflops") && d.sources.count("memory_bandwidth_gbps"), d.name.c_str());
        }
        QCOMPARE(t.find("H200")->bandwidth, 4.8e12);
        QCOMPARE(t.find("H100")->peakFlops.at("bfloat16"), 989.4e12);

        const std::string good = R"({"format": "blockscope.devices", "version": 1, "devices": [
            {"name": "Mine", "kind": "cpu", "peak_tflops": {"float32": 1.5}, "memory_bandwidth_gbps": 50,
             "board_power_w": 65, "pj_per_flop": 40, "pj_per_byte": 100}]})";
        QCOMPARE(DeviceTable::parse(good, "mine.json").devices.front().peakFlops.at("float32"), 1.5e12);
        auto refused = [](const std::string &json, const std::string &field) {
            try {
                DeviceTable::parse(json, "bad.json");
                QFAIL("accepted a malformed table");
            } catch (const FormatError &e) {
                const std::string what = e.what();
                QVERIFY2(
                    what.find("bad.json") != std::string::npos && what.find(field) != std::string::npos, what.c_str());
            }
        };
        refused("not json", "bad.json");
        refused(R"({"format": "other", "version": 1, "devices": []})", "format");
        refused(R"({"format": "blockscope.devices", "version": 1, "devices": []})", "devices");
        std::string negative = good;
        negative.replace(negative.find("50"), 2, "-5");
        refused(negative, "devices[0] (Mine).memory_bandwidth_gbps");
        std::string dtype = good;
        dtype.replace(dtype.find("float32"), 7, "int4");
        refused(dtype, "peak_tflops.int4");
        std::string missing = good;
        missing.replace(missing.find(R"("board_power_w": 65, )"), 21, "");
        refused(missing, "board_power_w");
        QVERIFY_THROWS_EXCEPTION(UsageError, DeviceTable::load("/nonexistent/devices.json"));
    }

    void energyCountersFallBack()
    {
        const QString dir = freshTempDir(QStringLiteral("powercap"));
        std::string why;
        QVERIFY(!openEnergyMeter("cpu", &why, (dir + QStringLiteral("/absent")).toStdString()));
        QVERIFY2(why.find("does not exist") != std::string::npos, why.c_str());
        // A package zone whose counter cannot be read (a directory where the file should be).
        const std::filesystem::path unreadable = (dir + QStringLiteral("/u")).toStdString();
        std::filesystem::create_directories(unreadable / "intel-rapl:0" / "energy_uj");
        QVERIFY(!openEnergyMeter("cpu", &why, unreadable.string()));
        QVERIFY2(why.find("not readable") != std::string::npos, why.c_str());
        // A readable one, wrapping once.
        const std::filesystem::path fake = (dir + QStringLiteral("/f")).toStdString();
        writeFile(fake / "intel-rapl:0" / "energy_uj", "900000\n");
        writeFile(fake / "intel-rapl:0" / "max_energy_range_uj", "1000000\n");
        writeFile(fake / "intel-rapl:0:0" / "energy_uj", "5\n"); // a subzone: not counted
        auto meter = openEnergyMeter("cpu", &why, fake.string());
        QVERIFY(meter);
        QVERIFY(meter->name().find("intel-rapl:0") != std::string::npos);
        QCOMPARE(meter->joules(), 0.0);
        writeFile(fake / "intel-rapl:0" / "energy_uj", "100000\n"); // wrapped: +200,000 µJ
        QCOMPARE(meter->joules(), 0.2);
    }

    void measuresATinyModel()
    {
        auto decoder = tinyDecoder({.layers = 2, .context = 64}, 3);
        const Architecture a = decoder->architecture();
        Workload w;
        w.seq = 24;
        w.decodeTokens = 4;
        w.runs = 3;
        w.warmup = 1;
        CostModel costs = analyticCosts(a, {}, UnitMask::dense(2), w);
        MeasureOptions o;
        o.workload = w;
        o.powercapRoot = (freshTempDir(QStringLiteral("nopower")) + QStringLiteral("/none")).toStdString();
        const Measurement m = measureConfiguration(*decoder, UnitMask::dense(2), o, costs, toyDevice());
        QCOMPARE(m.prefillTokensPerSecond.provenance, Provenance::Measured);
        QCOMPARE(m.prefillTokensPerSecond.runs, 3);
        QVERIFY(m.prefillTokensPerSecond.value > 0);
        QVERIFY(m.prefillTokensPerSecond.min <= m.prefillTokensPerSecond.value);
        QVERIFY(m.prefillTokensPerSecond.value <= m.prefillTokensPerSecond.max);
        QVERIFY(m.decodeMsPerToken.value > 0);
        // No counter here: energy is modelled, and says why.
        QCOMPARE(m.prefillJoulesPerToken.provenance, Provenance::Modelled);
        QVERIFY2(
            m.prefillJoulesPerToken.note.find("modelled") != std::string::npos, m.prefillJoulesPerToken.note.c_str());
        QVERIFY2(m.energySource.rfind("none:", 0) == 0, m.energySource.c_str());
        QCOMPARE(m.prefillJoulesPerToken.value, costs.prefillFlopsPerToken * 1e-9 + costs.prefillBytesPerToken * 2e-9);
        // Linux lets the peak RSS be reset: where it does, the peak is measured, and at least the weights.
        QVERIFY(m.peakMemoryBytes.known());
        if (QFile clearRefs(QStringLiteral("/proc/self/clear_refs")); clearRefs.open(QIODevice::WriteOnly))
            QCOMPARE(m.peakMemoryBytes.provenance, Provenance::Measured);
        if (m.peakMemoryBytes.provenance == Provenance::Measured)
            QVERIFY(m.peakMemoryBytes.value > costs.computeBytes);
        else
            QVERIFY(m.peakMemoryBytes.note.find("modelled") != std::string::npos);
        for (const UnitCost &u : costs.units)
            QVERIFY2(u.seconds.known() && u.seconds.provenance == Provenance::Measured, u.unit.c_str());
        // With a (fake) counter the energy is measured.
        const std::filesystem::path fake
            = (freshTempDir(QStringLiteral("power")) + QStringLiteral("/rapl")).toStdString();
        writeFile(fake / "intel-rapl:0" / "energy_uj", "1000\n");
        o.powercapRoot = fake.string();
        o.unitBreakdown = false;
        const Measurement withMeter = measureConfiguration(*decoder, UnitMask::dense(2), o, costs, toyDevice());
        // The fake counter does not move: it measured nothing, so there is no figure (not 0 J), and
        // the note says why.
        QCOMPARE(withMeter.prefillJoulesPerToken.provenance, Provenance::Measured);
        QVERIFY(!withMeter.prefillJoulesPerToken.known());
        QVERIFY2(withMeter.prefillJoulesPerToken.note.find("did not advance") != std::string::npos,
            withMeter.prefillJoulesPerToken.note.c_str());
        QVERIFY(!withMeter.decodeJoulesPerToken.known());
    }

    // A unit's share of a measured total is derived, not measured; sums over a block follow it; a
    // gap is only a gap between figures of the same attention.
    void provenanceOfDerivedFiguresAndGaps()
    {
        Figure measured{2.0, 1.0, 3.0, 3, Provenance::Measured, {}};
        Figure derived{1.0, NaN, NaN, 0, Provenance::Derived, "apportioned"};
        UnitCost attn, mlp;
        attn.unit = "attn 0";
        mlp.unit = "mlp 0";
        attn.layer = mlp.layer = 0;
        attn.seconds = mlp.seconds = measured;
        attn.joulesPerToken = mlp.joulesPerToken = derived;
        const std::vector<UnitCost> blocks = unitsByBlock({attn, mlp});
        QCOMPARE(blocks.size(), std::size_t(1));
        QCOMPARE(blocks[0].seconds.provenance, Provenance::Measured);
        QCOMPARE(blocks[0].joulesPerToken.provenance, Provenance::Derived);
        QCOMPARE(blocks[0].joulesPerToken.value, 2.0);
        mlp.joulesPerToken = Figure::modelled(1.0);
        QCOMPARE(unitsByBlock({attn, mlp})[0].joulesPerToken.provenance, Provenance::Modelled);
        QCOMPARE(std::string(provenanceName(Provenance::Derived)), std::string("derived"));

        PpaPoint p;
        p.measured = Measurement{};
        QCOMPARE(measuredModelledGap(p, 120.0, 100.0), 0.2);
        QVERIFY(std::isnan(measuredModelledGap(p, NaN, 100.0)));
        // Sparse prefill in the model, dense attention in the measurement: no gap.
        p.attentionDensity = 0.3;
        QVERIFY(std::isnan(measuredModelledGap(p, 120.0, 100.0)));
        p.measured->attentionDensity = 0.3;
        QCOMPARE(measuredModelledGap(p, 120.0, 100.0), 0.2);
    }

    // A prediction says whose energy constants it used; this machine calibrated borrows them.
    void predictionsNameTheirEnergyConstants()
    {
        DeviceSpec d = toyDevice();
        CostModel c;
        c.prefillFlopsPerToken = c.decodeFlopsPerToken = 1e9;
        c.prefillBytesPerToken = c.decodeBytesPerToken = 1e6;
        Workload w;
        QCOMPARE(predict(c, d, w).energyConstantsFrom, d.name);
        d.name = "this machine (calibrated)";
        d.calibrated = true;
        d.sources["pj_per_flop"] = "from EPYC 9654";
        QCOMPARE(predict(c, d, w).energyConstantsFrom, std::string("EPYC 9654"));
    }

    void cachedDecodeEqualsFullForwards()
    {
        auto decoder = tinyDecoder({.layers = 2, .context = 64}, 4);
        std::vector<std::int64_t> prompt;
        for (int i = 0; i < 9; ++i)
            prompt.push_back((i * 7 + 3) % 64);
        UnitMask mask = UnitMask::dense(2);
        mask.skipMlp[1] = true;
        const std::vector<std::int64_t> cached = greedyDecodeWithCache(*decoder, mask, prompt, 6);
        std::vector<std::int64_t> seq = prompt, full;
        for (int t = 0; t < 6; ++t) {
            at::Tensor ids = at::tensor(seq, at::kLong).unsqueeze(0);
            const std::int64_t next = decoder->forward(ids, mask)[0][-1].argmax().item<std::int64_t>();
            full.push_back(next);
            seq.push_back(next);
        }
        QCOMPARE(cached, full);
    }
};

QTEST_GUILESS_MAIN(TestPpa)
#include "tst_ppa.moc"
