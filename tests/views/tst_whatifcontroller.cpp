// What-if: the mask a toggle makes, the result line, and real evaluations on the bundled demo
// model in the background, the newest question superseding older ones.
#include "jobrunner.h"
#include "testdata.h"
#include "whatifcontroller.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>

using namespace blockscope;
using namespace blockscope::views;

class TestWhatIfController : public QObject
{
    Q_OBJECT
private:
    QString m_demo;

    WhatIfEvaluator::Options demoOptions(const QString &text) const
    {
        WhatIfEvaluator::Options o;
        o.modelPath = m_demo.toStdString();
        o.textPath = text.toStdString();
        o.windows = WhatIfController::defaultWindows;
        return o;
    }

private Q_SLOTS:
    void initTestCase() { m_demo = test::sourceDir() + QStringLiteral("/resources/demo-model"); }

    void formatResult()
    {
        WhatIfResult r;
        r.perplexity = 41.234;
        r.densePerplexity = 32.96;
        r.klToDense = 0.2104;
        r.seconds = 0.123;
        r.mask = UnitMask::dense(4);
        r.mask.skipAttn[2] = true;
        QCOMPARE(WhatIfController::formatResult(r),
            QStringLiteral("PPL 41.23 (dense 32.96) \u00b7 KL 0.2104 \u00b7 0.12 s \u00b7 mask: attn 2"));
    }

    void togglesMakeTheMask()
    {
        JobRunner runner;
        WhatIfController c(&runner);
        QSignalSpy masks(&c, &WhatIfController::maskChanged);
        // No text: nothing to evaluate on, but the mask still follows the toggles.
        c.configure(demoOptions(QString()), 4);
        QVERIFY(c.text().contains(QStringLiteral("needs a text")));
        QCOMPARE(runner.runningCount(), 0);
        QCOMPARE(c.mask(), UnitMask::dense(4));
        c.toggle(UnitKind::Attention, 2);
        QVERIFY(c.mask().skipAttn[2]);
        c.toggle(UnitKind::Mlp, 2);
        QVERIFY(c.mask().blockSkipped(2));
        c.toggle(UnitKind::Block, 2); // both off: the block comes back
        QCOMPARE(c.mask(), UnitMask::dense(4));
        c.toggle(UnitKind::Attention, 1);
        c.toggle(UnitKind::Block, 1); // partly off: the whole block goes
        QVERIFY(c.mask().blockSkipped(1));
        c.toggle(UnitKind::Block, 9); // out of range: ignored
        c.toggle(UnitKind::Mlp, -1);
        QCOMPARE(c.mask().skippedUnits(), 2);
        c.reset();
        QCOMPARE(c.mask(), UnitMask::dense(4));
        QCOMPARE(masks.count(), 7);
    }

    void evaluatesInTheBackground()
    {
        BLOCKSCOPE_REQUIRE_DATA(text, "text/tinyshakespeare.txt");
        JobRunner runner;
        WhatIfController c(&runner);
        QSignalSpy evaluated(&c, &WhatIfController::evaluated);
        QSignalSpy failed(&c, &WhatIfController::failed);
        c.configure(demoOptions(text), 4);
        c.toggle(UnitKind::Attention, 2); // before the evaluator is ready: answered once it is
        QVERIFY(evaluated.wait(60000));
        QCOMPARE(failed.count(), 0);
        QVERIFY(c.isReady());
        const WhatIfResult first = *c.lastResult();
        QCOMPARE(first.mask, c.mask());
        QVERIFY(first.densePerplexity > 2 && first.densePerplexity < 200);
        QVERIFY2(first.perplexity != first.densePerplexity, qPrintable(c.text()));
        QVERIFY(first.klToDense > 0);
        QVERIFY(c.text().startsWith(QStringLiteral("PPL ")));
        QVERIFY(c.text().endsWith(QStringLiteral("mask: attn 2")));

        // Once ready, one toggle costs one masked forward; the UI thread never waits for it.
        QElapsedTimer clock;
        clock.start();
        c.toggle(UnitKind::Block, 0);
        const qint64 posted = clock.elapsed();
        QVERIFY(evaluated.wait(30000));
        qInfo("toggle posted in %lld ms, answered in %lld ms (engine %.3f s)", posted, clock.elapsed(),
            c.lastResult()->seconds);
        QVERIFY(c.lastResult()->mask.blockSkipped(0));
    }

    void newestQuestionWins()
    {
        BLOCKSCOPE_REQUIRE_DATA(text, "text/tinyshakespeare.txt");
        JobRunner runner;
        WhatIfController c(&runner);
        QSignalSpy evaluated(&c, &WhatIfController::evaluated);
        c.configure(demoOptions(text), 4);
        QTRY_VERIFY_WITH_TIMEOUT(c.isReady() || !c.text().startsWith(QStringLiteral("Preparing")), 60000);
        QVERIFY(c.isReady());
        c.toggle(UnitKind::Mlp, 1);
        c.toggle(UnitKind::Mlp, 3);
        c.toggle(UnitKind::Attention, 0);
        QTRY_VERIFY_WITH_TIMEOUT(!runner.isTagRunning(QStringLiteral("whatif")), 30000);
        QVERIFY(evaluated.count() >= 1);
        QCOMPARE(c.lastResult()->mask, c.mask());
        QVERIFY(c.mask().skipMlp[1] && c.mask().skipMlp[3] && c.mask().skipAttn[0]);
    }

    void badTextSaysWhy()
    {
        JobRunner runner;
        WhatIfController c(&runner);
        QSignalSpy failed(&c, &WhatIfController::failed);
        c.configure(demoOptions(QStringLiteral("/no/such/text.txt")), 4);
        QVERIFY(failed.wait(30000));
        QVERIFY2(c.text().startsWith(QStringLiteral("What-if unavailable:")), qPrintable(c.text()));
        QVERIFY(!c.isReady());
    }
};

QTEST_MAIN(TestWhatIfController)
#include "tst_whatifcontroller.moc"
