// The evaluation panel runs a perplexity job and shows the number with its protocol card; a bad
// request shows the engine's message instead.
#include "evaluationpanel.h"
#include "jobrunner.h"
#include "testdata.h"

#include <QPushButton>
#include <QSignalSpy>
#include <QTest>

using namespace blockscope::views;
using namespace blockscope::test;

class TestEvaluationPanel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void perplexityWithProtocolCard()
    {
        BLOCKSCOPE_REQUIRE_DATA(model, "models/stories260K/stories260K.bin");
        BLOCKSCOPE_REQUIRE_DATA(text, "text/tinystories_valid_head.txt");
        JobRunner runner;
        EvaluationPanel panel(&runner);
        QVERIFY(!panel.runButton()->isEnabled()); // nothing to evaluate without a model
        panel.setModelPath(model);
        QVERIFY(panel.runButton()->isEnabled());
        panel.setTextPath(text);
        panel.setProtocol(QStringLiteral("tiny-ts"));
        panel.setMaxWindows(2);
        panel.setSkips(QString(), QString(), QStringLiteral("2"));
        QSignalSpy done(&panel, &EvaluationPanel::evaluated);
        QTest::mouseClick(panel.runButton(), Qt::LeftButton);
        QVERIFY(done.wait(60000));
        const double ppl = done.at(0).at(0).toDouble();
        QVERIFY2(ppl > 2 && ppl < 1000, qPrintable(QString::number(ppl)));
        QVERIFY(done.at(0).at(1).toString().startsWith(QStringLiteral("tiny-ts: T=512")));
        const QString shown = panel.resultText();
        QVERIFY(shown.contains(QStringLiteral("(block 2)")));
        QVERIFY(shown.contains(QStringLiteral("dense:")));
        QVERIFY(shown.contains(QStringLiteral("protocol:        tiny-ts")));
        QVERIFY(shown.contains(QStringLiteral("windows:         2 (1024 tokens, 1022 scored)")));
        QVERIFY(shown.contains(QStringLiteral("tokenizer:       llama2.c tokenizer.bin")));
        // For looking at the panel: BLOCKSCOPE_SCREENSHOT_DIR=... saves what a user would see.
        const QString shots = qEnvironmentVariable("BLOCKSCOPE_SCREENSHOT_DIR");
        if (!shots.isEmpty()) {
            panel.resize(560, 640);
            QVERIFY(panel.grab().save(shots + QStringLiteral("/evaluation-panel.png")));
        }
    }

    void badRequestShowsMessage()
    {
        BLOCKSCOPE_REQUIRE_DATA(model, "models/stories260K/stories260K.bin");
        JobRunner runner;
        EvaluationPanel panel(&runner);
        panel.setModelPath(model);
        panel.setTextPath(QStringLiteral("/no/such/text.txt"));
        QSignalSpy failed(&panel, &EvaluationPanel::failed);
        panel.run();
        QVERIFY(failed.wait(30000));
        QVERIFY2(failed.at(0).at(0).toString().contains(QStringLiteral("/no/such/text.txt")),
            qPrintable(failed.at(0).at(0).toString()));
        QCOMPARE(panel.resultText(), failed.at(0).at(0).toString());
    }
};

QTEST_MAIN(TestEvaluationPanel)
#include "tst_evaluationpanel.moc"
