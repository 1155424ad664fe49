// The pruning form: what it shows becomes the request, starting from each method's tiny-ts
// budgets, and it says what stops a run before anything starts.
#include "pruneform.h"
#include "testdata.h"

#include <QComboBox>
#include <QTest>

using namespace blockscope;
using namespace blockscope::views;

Q_DECLARE_METATYPE(blockscope::PruneMethod)

class TestPruneForm : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void requestFollowsTheForm()
    {
        PruneForm form;
        form.setMethod(PruneMethod::FinerCut);
        form.setTarget(0.25);
        form.setSeed(7);
        form.setCalibrationWindows(4);
        form.setEvaluationWindows(3);
        form.setCalibrationText(QStringLiteral("/data/text.txt"));
        form.setProtocol(QStringLiteral("sliding"));
        form.setExperimentPath(QStringLiteral("/tmp/e.h5"));
        form.setFinerCut(QStringLiteral("a"), QStringLiteral("kl"), 0.5);
        form.setCached(false);
        form.setProtectedBlocks(QStringLiteral("0, 3"));
        form.setResume(true);
        const PruneRequest r = form.request(QStringLiteral("/models/demo"));
        QCOMPARE(r.modelPath, std::string("/models/demo"));
        QCOMPARE(r.calibrationPath, std::string("/data/text.txt"));
        QCOMPARE(r.protocol, std::string("sliding"));
        QCOMPARE(r.evaluationWindows, std::int64_t(3));
        QCOMPARE(r.experimentPath, std::string("/tmp/e.h5"));
        QVERIFY(r.resume);
        const PruneOptions &o = r.options;
        QCOMPARE(o.method, PruneMethod::FinerCut);
        QCOMPARE(o.target, 0.25);
        QCOMPARE(o.seed, std::uint64_t(7));
        QCOMPARE(o.calibrationWindows, std::int64_t(4));
        QCOMPARE(o.finercutLevel, std::string("a"));
        QCOMPARE(o.finercutMetric, std::string("kl"));
        QCOMPARE(o.excludeFraction, 0.5);
        QVERIFY(!o.cached);
        QCOMPARE(o.protectedBlocks, (std::vector<int>{0, 3}));
    }

    void methodBudgets_data()
    {
        QTest::addColumn<PruneMethod>("method");
        for (PruneMethod m : {PruneMethod::Sleb, PruneMethod::FinerCut, PruneMethod::EvoPress, PruneMethod::ShortGpt,
                 PruneMethod::Angular})
            QTest::newRow(pruneMethodName(m).c_str()) << m;
    }
    void methodBudgets()
    {
        // Untouched, the form asks for the method's tiny-ts defaults; the calibration windows are
        // left to the run, which takes the protocol's budget (16 for SLEB under tiny-ts).
        QFETCH(PruneMethod, method);
        PruneForm form;
        form.setMethod(method);
        QCOMPARE(form.method(), method);
        const PruneRequest request = form.request(QStringLiteral("m"));
        const PruneOptions got = request.options;
        const PruneOptions want = PruneOptions::tinyTsDefaults(method);
        QCOMPARE(request.protocol, std::string("tiny-ts"));
        QCOMPARE(got.calibrationWindows, std::int64_t(0));
        QCOMPARE(std::int64_t(PruneOptions::calibrationBudget(method, request.protocol, 512)), want.calibrationWindows);
        QCOMPARE(got.offspring, want.offspring);
        QCOMPARE(got.generations, want.generations);
        QCOMPARE(got.stageTokens, want.stageTokens);
        QCOMPARE(got.earlyBarrier, want.earlyBarrier);
        QCOMPARE(got.finercutLevel, want.finercutLevel);
        QCOMPARE(got.target, 1.0);
    }

    // Under another protocol the form no longer applies tiny-ts budgets: EvoPress gets the
    // paper's token budgets, and the teacher the user chose.
    void otherProtocolBudgets()
    {
        PruneForm form;
        form.setMethod(PruneMethod::EvoPress);
        form.setProtocol(QStringLiteral("evopress"));
        QComboBox *teacher = nullptr;
        for (auto *box : form.findChildren<QComboBox *>())
            if (box->findText(QStringLiteral("top-k")) >= 0)
                teacher = box;
        QVERIFY(teacher);
        teacher->setCurrentText(QStringLiteral("top-k"));
        const PruneOptions got = form.request(QStringLiteral("m")).options;
        QCOMPARE(got.calibrationWindows, std::int64_t(0));
        QCOMPARE(got.stageTokens, PruneOptions().stageTokens);
        QCOMPARE(got.initialTokens, PruneOptions().initialTokens);
        QCOMPARE(got.teacher, std::string("top-k"));
        QCOMPARE(got.teacherTopK, 512);
        QCOMPARE(got.teacherBudgetMiB, 4096.0);
        form.setProtocol(QStringLiteral("tiny-ts"));
        QCOMPARE(form.request(QStringLiteral("m")).options.stageTokens,
            PruneOptions::tinyTsDefaults(PruneMethod::EvoPress).stageTokens);
    }

    void targetModes()
    {
        PruneForm form;
        form.setTarget(3);
        QCOMPARE(form.request(QString()).options.target, 3.0);
        form.setTarget(0.5);
        QCOMPARE(form.request(QString()).options.target, 0.5);
    }

    void missing_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("text"); // "shared": an existing text
        QTest::addColumn<QString>("protect");
        QTest::addColumn<QString>("says"); // empty: nothing missing
        QTest::newRow("no model") << ""
                                  << "shared"
                                  << ""
                                  << "Open a model first";
        QTest::newRow("no text") << "m"
                                 << ""
                                 << ""
                                 << "Choose a calibration text";
        QTest::newRow("text not there") << "m"
                                        << "/no/such.txt"
                                        << ""
                                        << "/no/such.txt does not exist";
        QTest::newRow("protect not a number") << "m"
                                              << "shared"
                                              << "0, x"
                                              << "'x' is not a block number";
        QTest::newRow("ready") << "m"
                               << "shared"
                               << "0, 1"
                               << "";
    }
    void missing()
    {
        QFETCH(QString, model);
        QFETCH(QString, text);
        QFETCH(QString, protect);
        QFETCH(QString, says);
        if (text == QLatin1String("shared")) {
            text = test::sourceDir() + QStringLiteral("/README.md"); // any file that exists
        }
        PruneForm form;
        form.setCalibrationText(text);
        form.setProtectedBlocks(protect);
        const QString got = form.missing(model);
        if (says.isEmpty())
            QVERIFY2(got.isEmpty(), qPrintable(got));
        else
            QVERIFY2(got.contains(says), qPrintable(got));
    }
};

QTEST_MAIN(TestPruneForm)
#include "tst_pruneform.moc"
