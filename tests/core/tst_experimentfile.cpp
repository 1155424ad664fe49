// The experiment file (README, "Experiment file format"): every trace field survives a
// round trip, writes are all-or-nothing, damaged or foreign files give FormatErrors; the content hash
// and the run and sweep exports that read it.
#include "common/contenthash.h"
#include "common/formaterror.h"
#include "experimentfixtures.h"
#include "store/experimentfile.h"
#include "store/traceexport.h"
#include "testdata.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

using namespace blockscope;
using namespace blockscope::test;

class TestExperimentFile : public QObject
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
    void greedyRoundTrip()
    {
        const QString path = freshPath();
        ExperimentRun run{makeInfo(PruneMethod::Sleb, 6, true), {}};
        run.info.id = ExperimentFile::addRun(path.toStdString(), run.info);
        QCOMPARE(str(run.info.id), QStringLiteral("run-0001"));
        for (int i = 0; i < 3; ++i) {
            run.steps.push_back(greedyStep(i, 6));
            ExperimentFile::appendStep(path.toStdString(), run.info.id, run.steps.back());
        }
        const Experiment e = ExperimentFile::read(path.toStdString());
        QCOMPARE(e.formatVersion, ExperimentFile::FormatVersion);
        QCOMPARE(e.runs.size(), std::size_t(1));
        compareRun(e.runs[0], run);
        // The steps are in the journal until a transaction folds them in.
        QCOMPARE(entries(QFileInfo(path).path()), (QStringList{"experiment.h5", "experiment.h5.journal"}));
        ExperimentFile::foldJournal(path.toStdString());
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
        compareRun(ExperimentFile::read(path.toStdString()).runs.at(0), run);
    }

    void evoRoundTrip()
    {
        const QString path = freshPath();
        ExperimentRun run{makeInfo(PruneMethod::EvoPress, 5, true), {}};
        run.info.options.dropEntireBlock = true;
        run.info.id = ExperimentFile::addRun(path.toStdString(), run.info);
        run.steps = {evoStep(0, 5, true), evoStep(1, 5, false)};
        // Steps come in order: one that skips ahead is refused.
        QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::appendStep(path.toStdString(), run.info.id, run.steps[1]));
        ExperimentFile::appendStep(path.toStdString(), run.info.id, run.steps[0]);
        ExperimentFile::appendStep(path.toStdString(), run.info.id, run.steps[1]);
        QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::appendStep(path.toStdString(), run.info.id, run.steps[1]));
        const Experiment e = ExperimentFile::read(path.toStdString());
        QCOMPARE(e.runs.size(), std::size_t(1));
        compareRun(e.runs[0], run);
    }

    void oneShotRoundTrip()
    {
        const QString path = freshPath();
        ExperimentRun run{makeInfo(PruneMethod::Angular, 5, false), {}};
        run.info.densePerplexity = NaN;
        run.info.label.clear();
        run.info.id = ExperimentFile::addRun(path.toStdString(), run.info);
        run.steps = {oneShotStep(5)};
        ExperimentFile::appendStep(path.toStdString(), run.info.id, run.steps[0]);
        const Experiment e = ExperimentFile::read(path.toStdString());
        QVERIFY(!e.runs[0].info.evaluationProtocol);
        compareRun(e.runs[0], run);
    }

    void emptyStep()
    {
        // A step with every list empty still reads back (zero-length datasets).
        const QString path = freshPath();
        ExperimentRun run{makeInfo(PruneMethod::FinerCut, 3, true), {}};
        run.info.id = ExperimentFile::addRun(path.toStdString(), run.info);
        TraceStep s;
        s.kind = "step";
        s.mask = UnitMask::dense(3);
        run.steps = {s};
        ExperimentFile::appendStep(path.toStdString(), run.info.id, s);
        compareRun(ExperimentFile::read(path.toStdString()).runs.at(0), run);
    }

    void runsKeptAcrossWrites()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        ExperimentRun a{makeInfo(PruneMethod::Sleb, 6, true), {}}, b{makeInfo(PruneMethod::EvoPress, 5, false), {}};
        a.info.id = ExperimentFile::addRun(p, a.info);
        b.info.id = ExperimentFile::addRun(p, b.info);
        QCOMPARE(str(b.info.id), QStringLiteral("run-0002"));
        for (int i = 0; i < 2; ++i) {
            a.steps.push_back(greedyStep(i, 6));
            ExperimentFile::appendStep(p, a.info.id, a.steps.back());
            b.steps.push_back(evoStep(i, 5, i == 0));
            ExperimentFile::appendStep(p, b.info.id, b.steps.back());
        }
        ExperimentFile::setStatus(p, a.info.id, "complete");
        a.info.status = "complete";
        ExperimentFile::setStatus(p, b.info.id, "cancelled");
        b.info.status = "cancelled";
        ExperimentFile::setDensePerplexity(p, b.info.id, 7.75);
        b.info.densePerplexity = 7.75;
        ExperimentFile::setDensePerplexity(p, a.info.id, NaN);
        a.info.densePerplexity = NaN;
        ExperimentRun c{makeInfo(PruneMethod::ShortGpt, 4, true), {}};
        c.info.id = ExperimentFile::addRun(p, c.info);
        QCOMPARE(str(c.info.id), QStringLiteral("run-0003"));

        const Experiment e = ExperimentFile::read(p);
        QCOMPARE(e.runs.size(), std::size_t(3));
        compareRun(e.runs[0], a);
        compareRun(e.runs[1], b);
        compareRun(e.runs[2], c);
        QVERIFY(e.find("run-0002") == &e.runs[1]);
        QVERIFY(!e.find("run-0004"));
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
        // A file with every kind of step, for HDFView or h5py: BLOCKSCOPE_KEEP_EXPERIMENT=/tmp/x.h5.
        const QString keep = qEnvironmentVariable("BLOCKSCOPE_KEEP_EXPERIMENT");
        if (!keep.isEmpty()) {
            const ExperimentRun d{makeInfo(PruneMethod::Angular, 5, false), {oneShotStep(5)}};
            ExperimentFile::appendStep(p, ExperimentFile::addRun(p, d.info), d.steps[0]);
            QFile::remove(keep);
            QVERIFY(QFile::copy(path, keep));
        }
    }

    // Format 2 writes every string fixed-length, so a file holds no global-heap collection (the
    // part of libhdf5 that damaged files crash): its signature "GCOL" never appears. A format-1
    // file (variable-length strings, committed as written by the build before) still reads, and
    // adding to it keeps its version.
    void stringsStayOutOfTheGlobalHeap()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        const RunInfo info = makeInfo(PruneMethod::EvoPress, 6, true);
        const std::string id = ExperimentFile::addRun(p, info);
        for (int i = 0; i < 3; ++i)
            ExperimentFile::appendStep(p, id, evoStep(i, 6, i == 0));
        ExperimentFile::setStatus(p, id, "complete");
        QVERIFY(!fileBytes(path).contains("GCOL"));
        const Experiment e = ExperimentFile::read(p);
        QCOMPARE(e.formatVersion, 2);
        QCOMPARE(e.runs.front().info.label, info.label); // non-ASCII text survives the fixed length
        QCOMPARE(e.runs.front().steps.size(), std::size_t(3));
    }

    void readsFormatVersion1()
    {
        const QString path = freshPath();
        QVERIFY(QFile::copy(sourceDir() + QStringLiteral("/tests/fixtures/experiments/format-v1.h5"), path));
        QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner);
        QVERIFY(fileBytes(path).contains("GCOL"));
        const std::string p = path.toStdString();
        Experiment e = ExperimentFile::read(p);
        QCOMPARE(e.formatVersion, 1);
        QCOMPARE(e.runs.size(), std::size_t(2));
        for (const ExperimentRun &r : e.runs) {
            QCOMPARE(r.info.label, makeInfo(r.info.options.method, 6, true).label);
            QCOMPARE(r.info.status, std::string("complete"));
            QCOMPARE(r.steps.size(), std::size_t(4));
            for (int i = 0; i < 4; ++i)
                compareMask(r.steps[static_cast<std::size_t>(i)].mask, greedyStep(i, 6).mask);
        }
        const std::string id = ExperimentFile::addRun(p, makeInfo(PruneMethod::ShortGpt, 6, true));
        ExperimentFile::appendStep(p, id, oneShotStep(6));
        e = ExperimentFile::read(p);
        QCOMPARE(e.formatVersion, 1);
        QCOMPARE(e.runs.size(), std::size_t(3));
        QCOMPARE(e.runs.back().info.options.method, PruneMethod::ShortGpt);

        // The same file claiming format 2: its variable-length strings are damage there, refused
        // before libhdf5 reads them.
        ExperimentFile::setFormatVersionForTesting(p, 2);
        try {
            ExperimentFile::read(p);
            QFAIL("a format-2 file with variable-length strings was read");
        } catch (const FormatError &err) {
            QCOMPARE(str(err.field()), QStringLiteral("/@format"));
            QVERIFY2(QString::fromUtf8(err.what()).contains(QLatin1String("variable-length")), err.what());
        }
    }

    void newerFormatRefused()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        const std::string id = ExperimentFile::addRun(p, makeInfo(PruneMethod::Sleb, 6, true));
        ExperimentFile::setFormatVersionForTesting(p, ExperimentFile::FormatVersion + 1);
        const QByteArray before = fileBytes(path);
        try {
            ExperimentFile::read(p);
            QFAIL("no exception");
        } catch (const FormatError &e) {
            const QString message = QString::fromUtf8(e.what());
            QVERIFY2(message.contains("newer"), e.what());
            QVERIFY2(message.contains(QStringLiteral("format %1, this build reads up to %2")
                                          .arg(ExperimentFile::FormatVersion + 1)
                                          .arg(ExperimentFile::FormatVersion)),
                e.what());
            QCOMPARE(str(e.field()), QStringLiteral("/@format_version"));
        }
        QVERIFY_THROWS_EXCEPTION(FormatError, ExperimentFile::appendStep(p, id, greedyStep(0, 6)));
        QCOMPARE(fileBytes(path), before);
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
    }

    void unreadableFiles_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::newRow("first half of a valid file") << "half";
        QTest::newRow("first 100 bytes") << "head";
        QTest::newRow("empty file") << "empty";
        QTest::newRow("garbage") << "garbage";
        QTest::newRow("HDF5 signature then garbage") << "signature";
    }

    void unreadableFiles()
    {
        QFETCH(QString, kind);
        const QString valid = freshPath();
        const std::string id = ExperimentFile::addRun(valid.toStdString(), makeInfo(PruneMethod::Sleb, 6, true));
        for (int i = 0; i < 3; ++i)
            ExperimentFile::appendStep(valid.toStdString(), id, greedyStep(i, 6));
        ExperimentFile::foldJournal(valid.toStdString());
        const QByteArray bytes = fileBytes(valid);
        QByteArray damaged;
        if (kind == "half")
            damaged = bytes.left(bytes.size() / 2);
        else if (kind == "head")
            damaged = bytes.left(100);
        else if (kind == "garbage")
            for (int i = 0; i < 5000; ++i)
                damaged.append(char((i * 7919) % 251));
        else if (kind == "signature")
            damaged = QByteArray("\x89HDF\r\n\x1a\n", 8) + QByteArray(4000, '\x5a');
        const QString path = QFileInfo(valid).path() + "/damaged.h5";
        writeBytes(path, damaged);
        QVERIFY_THROWS_EXCEPTION(FormatError, ExperimentFile::read(path.toStdString()));
        // Writing to it is refused the same way and leaves it as it was.
        QVERIFY_THROWS_EXCEPTION(FormatError, ExperimentFile::appendStep(path.toStdString(), id, greedyStep(3, 6)));
        QCOMPARE(fileBytes(path), damaged);
        QCOMPARE(entries(QFileInfo(path).path()), (QStringList{"damaged.h5", "experiment.h5"}));
    }

    // Damage to single objects, made by editing bytes HDF5 stores without checksums (the file is
    // written in the earliest on-disk format, for the widest compatibility).
    void damagedObjects_data()
    {
        QTest::addColumn<QByteArray>("from");
        QTest::addColumn<QByteArray>("to");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("says");
        QTest::newRow("format attribute missing") << QByteArray("format\0", 7) << QByteArray("formax\0", 7) << "/"
                                                  << "not a Blockscope experiment file";
        QTest::newRow("format attribute wrong")
            << QByteArray("blockscope-experiment") << QByteArray("blockscope-experimenX") << "/@format"
            << "not a Blockscope experiment file";
        QTest::newRow("dataset missing") << QByteArray("skip_attn\0", 10) << QByteArray("skip_attm\0", 10)
                                         << "/runs/run-0001/steps/000000/skip_attn"
                                         << "missing dataset";
        QTest::newRow("attribute missing") << QByteArray("kl_to_dense\0", 12) << QByteArray("kl_to_densf\0", 12)
                                           << "/runs/run-0001/steps/000000@kl_to_dense"
                                           << "missing attribute";
        // A version-1 dataspace message (rank 1, maximum given) of 7 elements, shrunk to 6: only
        // the masks have 7 elements here.
        QTest::newRow("mask shorter than layers") << QByteArray("\x01\x01\x01\0\0\0\0\0"
                                                                "\x07\0\0\0\0\0\0\0"
                                                                "\x07\0\0\0\0\0\0\0",
            24)
                                                  << QByteArray("\x01\x01\x01\0\0\0\0\0"
                                                                "\x06\0\0\0\0\0\0\0"
                                                                "\x06\0\0\0\0\0\0\0",
                                                         24)
                                                  << "/runs/run-0001/steps/000000/skip_"
                                                  << "expected 7";
    }

    void damagedObjects()
    {
        QFETCH(QByteArray, from);
        QFETCH(QByteArray, to);
        QFETCH(QString, field);
        QFETCH(QString, says);
        const QString path = freshPath();
        const std::string id = ExperimentFile::addRun(path.toStdString(), makeInfo(PruneMethod::Sleb, 7, true));
        TraceStep s = greedyStep(0, 7);
        s.candidates.resize(3);
        ExperimentFile::appendStep(path.toStdString(), id, s);
        ExperimentFile::foldJournal(path.toStdString());
        QVERIFY(patchBytes(path, from, to) > 0);
        try {
            ExperimentFile::read(path.toStdString());
            QFAIL("no exception");
        } catch (const FormatError &e) {
            QVERIFY2(str(e.field()).startsWith(field), e.what());
            QVERIFY2(str(e.message()).contains(says), e.what());
            QCOMPARE(str(e.file()), path);
        }
    }

    void failedWritesLeaveTheFile_data()
    {
        QTest::addColumn<QString>("change");
        QTest::newRow("unknown run id") << "unknown run";
        QTest::newRow("malformed run id") << "malformed run";
        QTest::newRow("mask shorter than layers") << "short mask";
        QTest::newRow("step already recorded") << "duplicate";
        QTest::newRow("negative step index") << "negative index";
        QTest::newRow("unit beyond the layers") << "unit layer";
        QTest::newRow("block scores of the wrong length") << "block scores";
        QTest::newRow("distance matrix of the wrong size") << "distance matrix";
        QTest::newRow("offspring genome of the wrong length") << "offspring";
        QTest::newRow("swap of a block") << "swap kind";
        QTest::newRow("unknown status") << "status";
        QTest::newRow("status of an unknown run") << "status run";
    }

    void failedWritesLeaveTheFile()
    {
        QFETCH(QString, change);
        const QString path = freshPath();
        const std::string p = path.toStdString();
        const std::string id = ExperimentFile::addRun(p, makeInfo(PruneMethod::EvoPress, 5, true));
        ExperimentFile::appendStep(p, id, evoStep(0, 5, true));
        ExperimentFile::foldJournal(p);
        const QByteArray before = fileBytes(path);

        TraceStep s = evoStep(1, 5, false);
        std::string runId = id;
        if (change == "unknown run")
            runId = "run-0002";
        else if (change == "malformed run")
            runId = "../run-0001";
        else if (change == "short mask")
            s.mask = UnitMask::dense(4);
        else if (change == "duplicate")
            s.index = 0;
        else if (change == "negative index")
            s.index = -1;
        else if (change == "unit layer")
            s.candidates = {{{UnitKind::Attention, 5}, 0.5, 0}};
        else if (change == "block scores")
            s.blockScores = {1, 2, 3};
        else if (change == "distance matrix")
            s.distanceMatrix = std::vector<double>(25, 0.0);
        else if (change == "offspring")
            s.evo.offspring[1].genome = UnitMask::dense(6);
        else if (change == "swap kind")
            s.evo.offspring[0].swaps[0].kind = UnitKind::Block;

        if (change == "status")
            QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::setStatus(p, id, "done"));
        else if (change == "status run")
            QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::setStatus(p, "run-0009", "complete"));
        else
            QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::appendStep(p, runId, s));
        QCOMPARE(fileBytes(path), before);
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
        QCOMPARE(ExperimentFile::read(p).runs.at(0).steps.size(), std::size_t(1));
    }

    // Candidates scored inside a step that is not finished are kept (journal) until the step is
    // appended; the next transaction folds steps in and keeps only those candidates.
    void pendingCandidates()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        const std::string id = ExperimentFile::addRun(p, makeInfo(PruneMethod::Sleb, 6, true));
        ExperimentFile::appendStep(p, id, greedyStep(0, 6));
        const CandidateRecord a{1, 0, 0, "block 0", 12.5, true, 96},
            b{1, 0, 1, "block 2", std::numeric_limits<double>::infinity()};
        ExperimentFile::appendCandidate(p, id, a);
        ExperimentFile::appendCandidate(p, id, b);
        auto check = [&](const ExperimentRun &r) {
            QCOMPARE(r.steps.size(), std::size_t(1));
            QCOMPARE(r.pending.size(), std::size_t(2));
            QCOMPARE(r.pending[0].step, 1);
            QCOMPARE(r.pending[1].index, 1);
            QCOMPARE(r.pending[1].what, std::string("block 2"));
            QCOMPARE(r.pending[0].score, 12.5);
            QVERIFY(r.pending[0].lowerBound && !r.pending[1].lowerBound); // stopped early, over 96 tokens
            QCOMPARE(r.pending[0].tokens, std::int64_t(96));
            QVERIFY(std::isinf(r.pending[1].score)); // exact, infinities included
        };
        check(ExperimentFile::read(p).runs.at(0));
        ExperimentFile::setStatus(p, id, "cancelled"); // a transaction: the step folds, the candidates stay
        QCOMPARE(entries(QFileInfo(path).path()), (QStringList{"experiment.h5", "experiment.h5.journal"}));
        check(ExperimentFile::read(p).runs.at(0));
        ExperimentFile::appendStep(p, id, greedyStep(1, 6));
        const ExperimentRun after = ExperimentFile::read(p).runs.at(0);
        QCOMPARE(after.steps.size(), std::size_t(2));
        QVERIFY(after.pending.empty());
        ExperimentFile::setStatus(p, id, "complete");
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
    }

    // A kill while a line is written leaves a torn line: readers drop it, the next append cuts it.
    void tornJournalLine()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        const std::string id = ExperimentFile::addRun(p, makeInfo(PruneMethod::EvoPress, 6, true));
        const TraceStep s0 = evoStep(0, 6, true), s1 = evoStep(1, 6, false);
        ExperimentFile::appendStep(p, id, s0);
        const QString journal = path + ".journal";
        const QByteArray whole = fileBytes(journal);
        ExperimentFile::appendStep(p, id, s1);
        const QByteArray two = fileBytes(journal);
        for (const qsizetype cut :
            {qsizetype(1), qsizetype(17), (two.size() - whole.size()) / 2, two.size() - whole.size() - 1}) {
            writeBytes(journal, two.left(whole.size() + cut));
            const Experiment e = ExperimentFile::read(p);
            QCOMPARE(e.runs.at(0).steps.size(), std::size_t(1));
            ExperimentFile::appendStep(p, id, s1);
            QCOMPARE(fileBytes(journal), two);
        }
        // A damaged byte inside a record: its checksum fails, it and what follows are not used.
        QByteArray damaged = two;
        damaged[whole.size() + 40] = damaged[whole.size() + 40] ^ 0x01;
        writeBytes(journal, damaged);
        QCOMPARE(ExperimentFile::read(p).runs.at(0).steps.size(), std::size_t(1));
    }

    // A record whose checksum holds but whose content is wrong (written by hand, or by another
    // program) is refused naming the journal and the record's byte offset; a file that is not a
    // journal at all, too. The HDF5 file is never touched.
    void hostileJournal()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        const std::string id = ExperimentFile::addRun(p, makeInfo(PruneMethod::Sleb, 6, true));
        ExperimentFile::appendStep(p, id, greedyStep(0, 6));
        const QString journal = path + ".journal";
        const QByteArray good = fileBytes(journal);
        const QByteArray before = fileBytes(path);
        // The record of step 0 rewritten with a mask of 5 blocks and its checksum recomputed.
        const qsizetype start = good.indexOf('\n') + 1;
        QByteArray payload = good.mid(start + 17, good.size() - start - 18);
        const QByteArray mask = "\"mask\":{\"skip_attn\":[";
        const qsizetype at = payload.indexOf(mask);
        QVERIFY(at > 0);
        payload.remove(at + mask.size(), payload.indexOf(',', at + mask.size()) + 1 - (at + mask.size()));
        std::uint64_t h = 14695981039346656037ull;
        for (const char c : payload) {
            h ^= static_cast<unsigned char>(c);
            h *= 1099511628211ull;
        }
        writeBytes(journal,
            good.left(start) + QByteArray::number(qulonglong(h), 16).rightJustified(16, '0') + ' ' + payload + '\n');
        try {
            ExperimentFile::read(p);
            QFAIL("no exception");
        } catch (const FormatError &e) {
            QCOMPARE(str(e.file()), journal);
            QCOMPARE(e.byteOffset(), std::uint64_t(start));
            QVERIFY2(str(e.message()).contains("mask"), e.what());
        }
        QVERIFY_THROWS_EXCEPTION(FormatError, ExperimentFile::setStatus(p, id, "complete"));
        writeBytes(journal, "not a journal\n");
        QVERIFY_THROWS_EXCEPTION(FormatError, ExperimentFile::read(p));
        QVERIFY_THROWS_EXCEPTION(FormatError, ExperimentFile::appendStep(p, id, greedyStep(1, 6)));
        QCOMPARE(fileBytes(path), before);
        QCOMPARE(fileBytes(journal), QByteArray("not a journal\n"));
    }

    // A journal left beside a file that was replaced (same run ids, other runs) is not applied,
    // and goes with the next transaction.
    void journalOfAnotherFile()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        RunInfo first = makeInfo(PruneMethod::Sleb, 6, true);
        first.started = "2026-01-01T00:00:00Z";
        const std::string id = ExperimentFile::addRun(p, first);
        ExperimentFile::appendStep(p, id, greedyStep(0, 6));
        const QByteArray journal = fileBytes(path + ".journal");
        QVERIFY(QFile::remove(path));
        RunInfo second = first;
        second.started = "2026-02-02T00:00:00Z";
        QCOMPARE(ExperimentFile::addRun(p, second), id);
        writeBytes(path + ".journal", journal);
        QVERIFY(ExperimentFile::read(p).runs.at(0).steps.empty());
        ExperimentFile::setStatus(p, id, "complete");
        QVERIFY(ExperimentFile::read(p).runs.at(0).steps.empty());
        QCOMPARE(entries(QFileInfo(path).path()), QStringList{"experiment.h5"});
    }

    // Appending a step costs the same however large the file is: the HDF5 file is not rewritten
    // (same inode) until the journal holds half as many bytes as the file; then one fold.
    void appendsDoNotCopyTheFile()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        const std::string id = ExperimentFile::addRun(p, makeInfo(PruneMethod::EvoPress, 40, true));
        // A large file: a finished run with many steps.
        const std::string big = ExperimentFile::addRun(p, makeInfo(PruneMethod::EvoPress, 40, true));
        for (int i = 0; i < 60; ++i)
            ExperimentFile::appendStep(p, big, evoStep(i, 40, i == 0));
        ExperimentFile::setStatus(p, big, "complete");
        struct stat st = {};
        QCOMPARE(::stat(p.c_str(), &st), 0);
        const ino_t first = st.st_ino;
        const qint64 fileSize = QFileInfo(path).size();
        int i = 0, folds = 0;
        qint64 journalMax = 0, record = 0;
        for (; i < 200 && folds == 0; ++i) {
            ExperimentFile::appendStep(p, id, evoStep(i, 40, i == 0));
            QCOMPARE(::stat(p.c_str(), &st), 0);
            folds += st.st_ino != first;
            const qint64 journal = QFileInfo(path + ".journal").size();
            if (i == 0)
                record = journal;
            journalMax = std::max(journalMax, journal);
        }
        QCOMPARE(folds, 1);
        // Not folded while the journal held less than half the file; folded by the append that got there.
        QVERIFY2(2 * journalMax < fileSize && 2 * (journalMax + record) >= fileSize && journalMax >= 64 * 1024,
            qPrintable(
                QStringLiteral("folded after %1 journal bytes for a %2-byte file").arg(journalMax).arg(fileSize)));
        QVERIFY(i > 2);
        QCOMPARE(QFileInfo(path + ".journal").exists(), false);
        QCOMPARE(ExperimentFile::read(p).runs.at(0).steps.size(), std::size_t(i));
    }

    void missingFiles()
    {
        const QString path = freshPath();
        const std::string p = path.toStdString();
        QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::read(p));
        QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::appendStep(p, "run-0001", greedyStep(0, 6)));
        QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::setStatus(p, "run-0001", "complete"));
        QVERIFY(!QFileInfo::exists(path));
        RunInfo bad = makeInfo(PruneMethod::Sleb, 0, true);
        QVERIFY_THROWS_EXCEPTION(UsageError, ExperimentFile::addRun(p, bad));
        QVERIFY(!QFileInfo::exists(path));
        QVERIFY_THROWS_EXCEPTION(UsageError,
            ExperimentFile::addRun(
                m_dir.filePath("no/such/folder/x.h5").toStdString(), makeInfo(PruneMethod::Sleb, 6, true)));
        QCOMPARE(entries(QFileInfo(path).path()), QStringList());
    }

    void sha256Vectors_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QString>("digest");
        QTest::newRow("empty") << QByteArray() << "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        QTest::newRow("abc") << QByteArray("abc") << "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        QTest::newRow("448 bits") << QByteArray("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                                  << "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
        QTest::newRow("896 bits") << QByteArray("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                                                "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")
                                  << "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1";
        QTest::newRow("a million a") << QByteArray(1000000, 'a')
                                     << "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    }

    void sha256Vectors()
    {
        QFETCH(QByteArray, input);
        QFETCH(QString, digest);
        QCOMPARE(str(sha256Hex(input.constData(), std::size_t(input.size()))), digest);
        // The same bytes as a file: read through the buffer, across its boundaries.
        const QString path = freshPath() + ".bin";
        writeBytes(path, input);
        QCOMPARE(str(contentHash(path.toStdString())), "sha256:" + digest);
    }

    void folderHash()
    {
        const QString folder = freshPath() + ".d";
        QDir().mkpath(folder + "/sub");
        writeBytes(folder + "/b.json", "{}");
        writeBytes(folder + "/a.bin", QByteArray(3 << 20, '\x11'));
        writeBytes(folder + "/sub/c.txt", "hello");
        const std::string h = contentHash(folder.toStdString());
        QVERIFY(h.rfind("sha256:", 0) == 0);
        QCOMPARE(h.size(), std::size_t(7 + 64));
        QCOMPARE(contentHash(folder.toStdString()), h);
        // Renaming a file, or changing a byte, changes the hash.
        QVERIFY(QFile::rename(folder + "/sub/c.txt", folder + "/sub/d.txt"));
        const std::string renamed = contentHash(folder.toStdString());
        QVERIFY(renamed != h);
        writeBytes(folder + "/sub/d.txt", "hellp");
        QVERIFY(contentHash(folder.toStdString()) != renamed);
        // Same bytes split differently between name and content give a different hash.
        const QString other = freshPath() + ".d";
        QDir().mkpath(other);
        writeBytes(other + "/ab", "c");
        const QString third = freshPath() + ".d";
        QDir().mkpath(third);
        writeBytes(third + "/a", "bc");
        QVERIFY(contentHash(other.toStdString()) != contentHash(third.toStdString()));
    }

    void sampledHash()
    {
        // A sparse file just over 1 GiB: only its size, head and tail are hashed.
        const QString path = freshPath() + ".big";
        const std::uint64_t size = (std::uint64_t(1) << 30) + 5;
        {
            std::ofstream f(path.toStdString(), std::ios::binary);
            f << "head";
        }
        std::filesystem::resize_file(path.toStdString(), size);
        const std::string h = contentHash(path.toStdString());
        QVERIFY2(h.rfind("sha256-sampled:", 0) == 0, h.c_str());
        const auto poke = [&](std::uint64_t offset) {
            std::fstream f(path.toStdString(), std::ios::binary | std::ios::in | std::ios::out);
            f.seekp(std::streamoff(offset));
            f.put('x');
        };
        poke(size / 2); // between the samples: not seen
        QCOMPARE(contentHash(path.toStdString()), h);
        poke(size - 2); // in the tail sample
        QVERIFY(contentHash(path.toStdString()) != h);
    }

    void hashErrorsNameThePath()
    {
        const QString path = m_dir.filePath("missing.bin");
        try {
            contentHash(path.toStdString());
            QFAIL("no exception");
        } catch (const UsageError &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(path), e.what());
        }
    }

    void exports()
    {
        ExperimentRun run{makeInfo(PruneMethod::Sleb, 6, true), {}};
        run.info.id = "run-0007";
        run.info.status = "complete";
        for (int i = 0; i < 3; ++i)
            run.steps.push_back(greedyStep(i, 6));
        run.steps[2].chosen.push_back({UnitKind::Mlp, 1});

        const nlohmann::json j = runToJson(run);
        QCOMPARE(str(j.at("id").get<std::string>()), QStringLiteral("run-0007"));
        QCOMPARE(str(j.at("method").get<std::string>()), QStringLiteral("sleb"));
        QVERIFY(j.at("options") == run.info.options.toJson());
        QCOMPARE(j.at("steps").size(), std::size_t(3));
        QVERIFY(j.at("steps")[0].at("perplexity").is_null()); // NaN
        QCOMPARE(j.at("steps")[1].at("perplexity").get<double>(), 5.5);
        QVERIFY(j.at("steps")[0].at("candidates").back().at("score").is_null());
        QCOMPARE(str(j.at("steps")[2].at("chosen")[1].get<std::string>()), QStringLiteral("mlp 1"));
        QVERIFY(j.at("steps")[0].at("evo").is_null());
        QCOMPARE(j.at("steps")[2].at("tokens").get<std::int64_t>(), std::int64_t(1) << 35);
        // Strict JSON: no NaN literal anywhere.
        QVERIFY(!QString::fromStdString(j.dump()).contains("NaN", Qt::CaseInsensitive));

        const QStringList lines = str(runToCsv(run)).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 4);
        QCOMPARE(lines[0],
            QStringLiteral("index,kind,chosen,score,near_tie,removed_so_far,perplexity,kl_to_dense,evaluations,"
                           "unit_forwards,tokens,seconds"));
        QCOMPARE(lines[1], QStringLiteral("0,phase,\"block 2\",1234.5,0,\"block 2\",,,5,18,8589934592,0.125"));
        QVERIFY2(lines[3].startsWith("2,phase,\"block 4;mlp 1\",1236.5,0,\"block 2;block 3;block 4\",6.5,0.02,"),
            qPrintable(lines[3]));

        const QString report = str(runReportText(run));
        QVERIFY2(report.contains("run-0007"), qPrintable(report));
        QVERIFY(report.contains(str(run.info.label)));
        QVERIFY(report.contains(str(run.info.modelHash)));
        QVERIFY(report.contains("complete"));
        QVERIFY(report.contains("4.1357"));
        QVERIFY(report.contains(str(run.info.calibrationProtocol.oneLine())));
        QVERIFY(report.contains("block 4, mlp 1"));
        QVERIFY(report.contains("(near tie)"));
        QVERIFY2(report.contains("removal order: block 2, block 3, block 4\n"), qPrintable(report));

        // A one-shot run has no cumulative list: the order is that of the chosen units.
        ExperimentRun oneShot{makeInfo(PruneMethod::Angular, 5, false), {oneShotStep(5)}};
        const QString text = str(runReportText(oneShot));
        QVERIFY2(text.contains("removal order: block 2, block 3\n"), qPrintable(text));
        QVERIFY(text.contains("evaluation protocol:  none"));
    }
};

QTEST_GUILESS_MAIN(TestExperimentFile)
#include "tst_experimentfile.moc"
