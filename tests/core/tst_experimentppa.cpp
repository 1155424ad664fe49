// PPA points of runs and sparsity sweeps in the experiment file: round trips field by field,
// replacement, refused writes that leave the file byte-identical, damaged objects named, exports.
#include "common/formaterror.h"
#include "experimentfixtures.h"
#include "store/experimentfile.h"
#include "store/traceexport.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace blockscope;
using namespace blockscope::test;

class TestExperimentPpa : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    int m_count = 0;

    // A fresh file path in a folder of its own, so temp-file leftovers are visible.
    QString freshPath()
    {
        const QString folder = m_dir.filePath(QString::number(++m_count));
        QDir().mkpath(folder);
        return folder + "/experiment.h5";
    }

private Q_SLOTS:
    void ppaRoundTrip()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        ExperimentRun a{makeInfo(PruneMethod::Sleb, 6, true), {}}, b{makeInfo(PruneMethod::EvoPress, 5, false), {}};
        a.info.id = ExperimentFile::addRun(p, a.info);
        b.info.id = ExperimentFile::addRun(p, b.info);
        for (int i = 0; i < 2; ++i) {
            a.steps.push_back(greedyStep(i, 6));
            ExperimentFile::appendStep(p, a.info.id, a.steps.back());
            b.steps.push_back(evoStep(i, 5, i == 0));
            ExperimentFile::appendStep(p, b.info.id, b.steps.back());
        }
        // Before any PPA is stored, runs read back with none.
        QVERIFY(ExperimentFile::read(p).runs.at(0).ppa.empty());

        a.ppa = makePoints(6);
        QVERIFY(a.ppa[0].measured && !a.ppa[1].measured);
        QCOMPARE(a.ppa[0].predictions.size(), std::size_t(2));
        ExperimentFile::setPpa(p, a.info.id, a.ppa);
        // Writes after the PPA keep it.
        a.steps.push_back(greedyStep(2, 6));
        ExperimentFile::appendStep(p, a.info.id, a.steps.back());
        ExperimentFile::setStatus(p, a.info.id, "complete");
        a.info.status = "complete";

        const Experiment e = ExperimentFile::read(p);
        QCOMPARE(e.formatVersion, ExperimentFile::FormatVersion);
        QCOMPARE(e.runs.size(), std::size_t(2));
        compareRun(e.runs[0], a);
        compareRun(e.runs[1], b);
        QVERIFY(e.runs[1].ppa.empty());
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
        const QString keep = qEnvironmentVariable("BLOCKSCOPE_KEEP_PPA_EXPERIMENT");
        if (!keep.isEmpty()) {
            QFile::remove(keep);
            QVERIFY(QFile::copy(path, keep));
        }
    }

    void ppaReplaced()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        ExperimentRun a{makeInfo(PruneMethod::Sleb, 6, true), {}}, b{makeInfo(PruneMethod::Sleb, 6, false), {}};
        a.info.id = ExperimentFile::addRun(p, a.info);
        b.info.id = ExperimentFile::addRun(p, b.info);
        a.steps = {greedyStep(0, 6)};
        b.steps = {greedyStep(0, 6), greedyStep(1, 6)};
        ExperimentFile::appendStep(p, a.info.id, a.steps[0]);
        for (const auto &s : b.steps)
            ExperimentFile::appendStep(p, b.info.id, s);
        b.ppa = makePoints(6);
        ExperimentFile::setPpa(p, b.info.id, b.ppa);

        // The second call replaces the first: one point, the measured one changed.
        a.ppa = makePoints(6);
        ExperimentFile::setPpa(p, a.info.id, a.ppa);
        a.ppa = {a.ppa[0]};
        a.ppa[0].label = "step 0";
        a.ppa[0].step = 0;
        a.ppa[0].predictions.pop_back();
        a.ppa[0].measured->decodeMsPerToken = measuredFigure(2.0, 1.5, 2.5, 7, "after a rerun");
        ExperimentFile::setPpa(p, a.info.id, a.ppa);
        Experiment e = ExperimentFile::read(p);
        QCOMPARE(e.runs.size(), std::size_t(2));
        QCOMPARE(e.runs[0].ppa.size(), std::size_t(1));
        compareRun(e.runs[0], a);
        compareRun(e.runs[1], b);

        // An empty list leaves the run with none; the other run keeps its points.
        ExperimentFile::setPpa(p, a.info.id, {});
        a.ppa.clear();
        e = ExperimentFile::read(p);
        compareRun(e.runs[0], a);
        compareRun(e.runs[1], b);
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
    }

    void ppaWritesRefused_data()
    {
        QTest::addColumn<QString>("change");
        QTest::newRow("unknown run") << "unknown run";
        QTest::newRow("mask shorter than layers") << "short mask";
        QTest::newRow("unit beyond the layers") << "unit layer";
    }

    void ppaWritesRefused()
    {
        QFETCH(QString, change);
        const QString path = freshPath();
        const std::string p = path.toStdString();
        const std::string id = ExperimentFile::addRun(p, makeInfo(PruneMethod::Sleb, 6, true));
        ExperimentFile::appendStep(p, id, greedyStep(0, 6));
        const auto before = makePoints(6);
        ExperimentFile::setPpa(p, id, before);
        const QByteArray bytes = fileBytes(path);

        auto points = makePoints(6);
        std::string runId = id;
        if (change == "unknown run")
            runId = "run-0002";
        else if (change == "short mask")
            points[1].mask = UnitMask::dense(5);
        else if (change == "unit layer")
            points[0].costs.units[3].layer = 6;
        QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::setPpa(p, runId, points));
        QCOMPARE(fileBytes(path), bytes);
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
        const Experiment e = ExperimentFile::read(p);
        QCOMPARE(e.runs.at(0).ppa.size(), before.size());
        comparePoint(e.runs[0].ppa[0], before[0]);
    }

    // Damage inside the PPA group, made by editing bytes as damagedObjects does.
    void ppaDamaged_data()
    {
        QTest::addColumn<QByteArrayList>("swap");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("says");
        // The names of two attributes of different types exchanged: @dtype is now an integer.
        QTest::newRow("attribute of the wrong type")
            << QByteArrayList{QByteArray("dtype\0", 6), QByteArray("batch\0", 6)}
            << "/runs/run-0001/ppa/point-000/measured@dtype"
            << "must be a string";
        // @decode_tokens (int32) and @energy_source (string) exchanged.
        QTest::newRow("integer attribute holding a string")
            << QByteArrayList{QByteArray("decode_tokens\0", 14), QByteArray("energy_source\0", 14)}
            << "/runs/run-0001/ppa/point-000/measured@decode_tokens"
            << "has string values, expected integer";
        // A provenance that is neither "measured" nor "modelled".
        QTest::newRow("unknown provenance")
            << QByteArrayList{QByteArray("modelled"), QByteArray("modelles")} << "/runs/run-0001/ppa/point-000/"
            << "provenance \"modelles\"";
    }

    void ppaDamaged()
    {
        QFETCH(QByteArrayList, swap);
        QFETCH(QString, field);
        QFETCH(QString, says);
        const QString path = freshPath();
        const std::string p = path.toStdString();
        const std::string id = ExperimentFile::addRun(p, makeInfo(PruneMethod::Sleb, 6, true));
        ExperimentFile::appendStep(p, id, greedyStep(0, 6));
        ExperimentFile::setPpa(p, id, makePoints(6));
        const QByteArray placeholder(swap[0].size(), '\x01');
        const QByteArray first = swap[0], second = swap[1];
        const int count = patchBytes(path, first, placeholder);
        QVERIFY(count > 0);
        if (first.contains('\0')) {
            // A true exchange: every attribute of the one name takes the other's.
            QCOMPARE(patchBytes(path, second, first), count);
            QCOMPARE(patchBytes(path, placeholder, second), count);
        } else {
            QCOMPARE(patchBytes(path, placeholder, second), count);
        }
        try {
            ExperimentFile::read(p);
            QFAIL("no exception");
        } catch (const FormatError &e) {
            QVERIFY2(str(e.field()).startsWith(field), e.what());
            QVERIFY2(str(e.message()).contains(says), e.what());
            QCOMPARE(str(e.file()), path);
        }
    }

    void ppaExport()
    {
        ExperimentRun run{makeInfo(PruneMethod::Sleb, 6, true), {greedyStep(0, 6)}};
        QVERIFY(runToJson(run).at("ppa").empty());
        run.ppa = makePoints(6);
        const nlohmann::json j = runToJson(run).at("ppa");
        QCOMPARE(j.size(), std::size_t(2));
        QCOMPARE(str(j[0].at("label").get<std::string>()), str(run.ppa[0].label));
        QCOMPARE(j[0].at("costs").at("params_total").get<std::int64_t>(), std::int64_t(1) << 34);
        QCOMPARE(j[0].at("costs").at("stored_bytes_by_dtype").at("Q8_0").get<double>(), 250000.25);
        QCOMPARE(j[0].at("costs").at("units").size(), std::size_t(14));
        const nlohmann::json &m = j[0].at("measured");
        QCOMPARE(
            str(m.at("prefill_tokens_per_second").at("provenance").get<std::string>()), QStringLiteral("measured"));
        QCOMPARE(m.at("prefill_tokens_per_second").at("value").get<double>(), 5120.5);
        QCOMPARE(str(m.at("prefill_joules_per_token").at("provenance").get<std::string>()), QStringLiteral("modelled"));
        QCOMPARE(j[0].at("predictions").size(), std::size_t(2));
        QVERIFY(j[0].at("predictions")[1].at("prefill_joules_per_token").is_null()); // NaN
        QCOMPARE(j[0].at("predictions")[0].at("prefill_compute_bound").get<bool>(), true);
        QVERIFY(j[1].at("measured").is_null());
        // Strict JSON: no NaN literal ("provenance" holds the letters, hence the word boundaries).
        QVERIFY(!QString::fromStdString(j.dump()).contains(
            QRegularExpression("\\bnan\\b", QRegularExpression::CaseInsensitiveOption)));
    }

    void sweepRoundTrip()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        SweepRecord sweep = makeSweep(6);
        QVERIFY(sweep.points[0].ppa.measured && sweep.points[0].ppa.predictions.size() == 2);
        sweep.id = "ignored";
        const std::string id = ExperimentFile::addSweep(p, sweep);
        QCOMPARE(str(id), QStringLiteral("sweep-0001"));
        sweep.id = id;
        const Experiment e = ExperimentFile::read(p);
        QCOMPARE(e.formatVersion, ExperimentFile::FormatVersion);
        QVERIFY(e.runs.empty());
        QCOMPARE(e.sweeps.size(), std::size_t(1));
        compareSweep(e.sweeps[0], sweep);
        QVERIFY(e.findSweep("sweep-0001") == &e.sweeps[0]);
        QVERIFY(!e.findSweep("sweep-0002"));
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
        // A file with a sweep and a run, for h5py: BLOCKSCOPE_KEEP_SWEEP_EXPERIMENT=/tmp/x.h5.
        const QString keep = qEnvironmentVariable("BLOCKSCOPE_KEEP_SWEEP_EXPERIMENT");
        if (!keep.isEmpty()) {
            const std::string run = ExperimentFile::addRun(p, makeInfo(PruneMethod::Sleb, 6, true));
            ExperimentFile::appendStep(p, run, greedyStep(0, 6));
            ExperimentFile::setPpa(p, run, makePoints(6));
            QFile::remove(keep);
            QVERIFY(QFile::copy(path, keep));
        }
    }

    void sweepOnlyFile()
    {
        // addSweep creates the file; with no runs (and even a sweep of no points) it reads.
        const QString path = freshPath();
        const std::string p = path.toStdString();
        SweepRecord empty;
        empty.label = "nothing swept";
        empty.densePerplexity = NaN;
        empty.id = ExperimentFile::addSweep(p, empty);
        const Experiment e = ExperimentFile::read(p);
        QCOMPARE(e.formatVersion, ExperimentFile::FormatVersion);
        QVERIFY(e.runs.empty());
        QCOMPARE(e.sweeps.size(), std::size_t(1));
        compareSweep(e.sweeps[0], empty);
        // A run added afterwards is run-0001 and leaves the sweep.
        const std::string run = ExperimentFile::addRun(p, makeInfo(PruneMethod::Sleb, 6, true));
        QCOMPARE(str(run), QStringLiteral("run-0001"));
        const Experiment f = ExperimentFile::read(p);
        QCOMPARE(f.runs.size(), std::size_t(1));
        compareSweep(f.sweeps.at(0), empty);
    }

    void twoSweepsTwoIds()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        SweepRecord a = makeSweep(6), b = makeSweep(6);
        b.label = "oracle";
        b.masks = "oracle";
        b.gatesPath.clear();
        b.gatesHash.clear();
        b.points.pop_back();
        a.id = ExperimentFile::addSweep(p, a);
        b.id = ExperimentFile::addSweep(p, b);
        QCOMPARE(str(a.id), QStringLiteral("sweep-0001"));
        QCOMPARE(str(b.id), QStringLiteral("sweep-0002"));
        const Experiment e = ExperimentFile::read(p);
        QCOMPARE(e.sweeps.size(), std::size_t(2));
        compareSweep(e.sweeps[0], a);
        compareSweep(e.sweeps[1], b);
    }

    void sweepsAndRunsCoexist()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        ExperimentRun a{makeInfo(PruneMethod::Sleb, 6, true), {}}, b{makeInfo(PruneMethod::EvoPress, 5, false), {}};
        a.info.id = ExperimentFile::addRun(p, a.info);
        b.info.id = ExperimentFile::addRun(p, b.info);
        for (int i = 0; i < 2; ++i) {
            a.steps.push_back(greedyStep(i, 6));
            ExperimentFile::appendStep(p, a.info.id, a.steps.back());
            b.steps.push_back(evoStep(i, 5, i == 0));
            ExperimentFile::appendStep(p, b.info.id, b.steps.back());
        }
        a.ppa = makePoints(6);
        ExperimentFile::setPpa(p, a.info.id, a.ppa);
        const Experiment before = ExperimentFile::read(p);
        QVERIFY(before.sweeps.empty());

        SweepRecord sweep = makeSweep(4); // a model of another size than the runs'
        sweep.id = ExperimentFile::addSweep(p, sweep);
        const Experiment after = ExperimentFile::read(p);
        QCOMPARE(after.runs.size(), before.runs.size());
        for (std::size_t r = 0; r < before.runs.size(); ++r) {
            compareRun(after.runs[r], before.runs[r]);
            QCOMPARE(runToJson(after.runs[r]).dump(), runToJson(before.runs[r]).dump());
        }
        compareRun(after.runs[0], a);
        compareRun(after.runs[1], b);
        QCOMPARE(after.sweeps.size(), std::size_t(1));
        compareSweep(after.sweeps[0], sweep);

        // Run writes after the sweep keep it.
        a.steps.push_back(greedyStep(2, 6));
        ExperimentFile::appendStep(p, a.info.id, a.steps.back());
        ExperimentFile::setStatus(p, a.info.id, "complete");
        a.info.status = "complete";
        ExperimentFile::setPpa(p, b.info.id, makePoints(5));
        b.ppa = makePoints(5);
        ExperimentRun c{makeInfo(PruneMethod::ShortGpt, 4, true), {}};
        c.info.id = ExperimentFile::addRun(p, c.info);
        QCOMPARE(str(c.info.id), QStringLiteral("run-0003"));
        const Experiment e = ExperimentFile::read(p);
        QCOMPARE(e.runs.size(), std::size_t(3));
        compareRun(e.runs[0], a);
        compareRun(e.runs[1], b);
        compareRun(e.runs[2], c);
        QCOMPARE(e.sweeps.size(), std::size_t(1));
        compareSweep(e.sweeps[0], sweep);
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
    }

    void sweepWritesRefused_data()
    {
        QTest::addColumn<QString>("change");
        QTest::newRow("unknown rule kind") << "rule kind";
        QTest::newRow("negative block size") << "block size";
        QTest::newRow("masks of different lengths") << "mask";
        QTest::newRow("unit beyond the masks") << "unit layer";
    }

    void sweepWritesRefused()
    {
        QFETCH(QString, change);
        const QString path = freshPath();
        const std::string p = path.toStdString();
        SweepRecord bad = makeSweep(6);
        if (change == "rule kind")
            bad.points[1].ruleKind = "topk";
        else if (change == "block size")
            bad.blockSize = -1;
        else if (change == "mask")
            bad.points[1].ppa.mask = UnitMask::dense(5);
        else if (change == "unit layer")
            bad.points[2].ppa.costs.units[3].layer = 6;
        // Nothing is created for a new file, and an existing one is left as it was.
        QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::addSweep(p, bad));
        QVERIFY(!QFileInfo::exists(path));
        const std::string first = ExperimentFile::addSweep(p, makeSweep(6));
        const QByteArray bytes = fileBytes(path);
        QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::addSweep(p, bad));
        QCOMPARE(fileBytes(path), bytes);
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
        QCOMPARE(ExperimentFile::read(p).sweeps.size(), std::size_t(1));
        QVERIFY_THROWS_EXCEPTION(
            UsageError, ExperimentFile::addSweep(m_dir.filePath("no/such/folder/x.h5").toStdString(), makeSweep(6)));
        QCOMPARE(str(first), QStringLiteral("sweep-0001"));
    }

    // Damage inside /sweeps, made by editing bytes as damagedObjects does.
    void sweepDamaged_data()
    {
        QTest::addColumn<QByteArrayList>("swap");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("says");
        // @block_size (int32) and @model_hash (string) exchanged: the string is read first.
        QTest::newRow("string attribute holding an integer")
            << QByteArrayList{QByteArray("block_size\0", 11), QByteArray("model_hash\0", 11)}
            << "/sweeps/sweep-0001@model_hash"
            << "must be a string";
        QTest::newRow("attribute missing")
            << QByteArrayList{QByteArray("dense_perplexity"), QByteArray("dense_perplexitz")}
            << "/sweeps/sweep-0001@dense_perplexity"
            << "missing attribute";
        QTest::newRow("column missing") << QByteArrayList{QByteArray("recall_p5"), QByteArray("recall_p6")}
                                        << "/sweeps/sweep-0001/recall_p5"
                                        << "missing dataset";
        QTest::newRow("unknown rule kind")
            << QByteArrayList{QByteArray("threshold"), QByteArray("thresholx")} << "/sweeps/sweep-0001/rule_kind"
            << "\"thresholx\" is neither";
        QTest::newRow("not a sweep id") << QByteArrayList{QByteArray("sweep-0001"), QByteArray("sweep-00x1")}
                                        << "/sweeps/sweep-00x1"
                                        << "is not a sweep";
    }

    void sweepDamaged()
    {
        QFETCH(QByteArrayList, swap);
        QFETCH(QString, field);
        QFETCH(QString, says);
        const QString path = freshPath();
        const std::string p = path.toStdString();
        ExperimentFile::addSweep(p, makeSweep(6));
        const QByteArray placeholder(swap[0].size(), '\x01');
        const QByteArray first = swap[0], second = swap[1];
        const int count = patchBytes(path, first, placeholder);
        QVERIFY(count > 0);
        if (first.contains('\0')) {
            // A true exchange: every attribute of the one name takes the other's.
            QVERIFY(patchBytes(path, second, first) > 0);
            QCOMPARE(patchBytes(path, placeholder, second), count);
        } else {
            QCOMPARE(patchBytes(path, placeholder, second), count);
        }
        try {
            ExperimentFile::read(p);
            QFAIL("no exception");
        } catch (const FormatError &e) {
            QVERIFY2(str(e.field()).startsWith(field), e.what());
            QVERIFY2(str(e.message()).contains(says), e.what());
            QCOMPARE(str(e.file()), path);
        }
    }

    void sweepExport()
    {
        SweepRecord sweep = makeSweep(6);
        sweep.id = "sweep-0003";
        const nlohmann::json j = sweepToJson(sweep);
        QCOMPARE(str(j.at("id").get<std::string>()), QStringLiteral("sweep-0003"));
        QCOMPARE(str(j.at("masks").get<std::string>()), QStringLiteral("gates"));
        QCOMPARE(j.at("block_size").get<int>(), 64);
        QCOMPARE(j.at("dense_perplexity").get<double>(), 4.1357);
        const nlohmann::json &points = j.at("points");
        QCOMPARE(points.size(), std::size_t(3));
        QCOMPARE(str(points[0].at("rule").get<std::string>()), QStringLiteral("density 0.5, last 2 rows dense"));
        QCOMPARE(str(points[0].at("rule_kind").get<std::string>()), QStringLiteral("density"));
        QCOMPARE(points[0].at("sparsity").get<double>(), 0.375);
        QCOMPARE(points[0].at("tokens").get<std::int64_t>(), std::int64_t(1) << 35);
        QCOMPARE(points[0].at("last_block_dense").get<bool>(), true);
        QCOMPARE(points[1].at("last_block_dense").get<bool>(), false);
        QVERIFY(points[1].at("perplexity").is_null()); // NaN
        QVERIFY(points[1].at("recall_p5").is_null());
        const nlohmann::json &ppa = points[0].at("ppa");
        QCOMPARE(ppa.at("attention_density").get<double>(), 0.5625);
        QCOMPARE(str(ppa.at("measured").at("prefill_tokens_per_second").at("provenance").get<std::string>()),
            QStringLiteral("measured"));
        QCOMPARE(ppa.at("predictions").size(), std::size_t(2));
        QVERIFY(points[1].at("ppa").at("measured").is_null());
        QVERIFY(!QString::fromStdString(j.dump()).contains(
            QRegularExpression("\\bnan\\b", QRegularExpression::CaseInsensitiveOption)));

        const QStringList lines = str(sweepToCsv(sweep)).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 4);
        QCOMPARE(lines[0],
            QStringLiteral("rule,kind,value,perplexity,tile_density,sparsity,pair_density,recall_mean,recall_p5,"
                           "recall_min,empty_rows,tokens,params_kept,prefill_flops_per_token,decode_bytes_per_token,"
                           "predicted_device,predicted_prefill_tokens_per_second"));
        QCOMPARE(lines[1],
            QStringLiteral("\"density 0.5, last 2 rows dense\",density,0.5,4.75,0.625,0.375,0.5625,0.96875,0.875,0.5,3,"
                           "34359738368,17056412395,3.3e+09,7100000,H100 SXM,1500000"));
        // NaN is an empty field; a point without predictions leaves the last two empty.
        QCOMPARE(lines[2],
            QStringLiteral(
                "threshold 0.02,threshold,0.02,,0.25,0.75,0.1875,0.75,,-0,0,4096,17056412395,3.3e+09,7100000,,"));
        QVERIFY2(lines[3].startsWith("density 1,density,1,4.1357,1,0,1,1,1,1,0,4096,"), qPrintable(lines[3]));
        QVERIFY2(lines[3].endsWith(",H200,2500000"), qPrintable(lines[3]));
    }
};

QTEST_GUILESS_MAIN(TestExperimentPpa)
#include "tst_experimentppa.moc"
