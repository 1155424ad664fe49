#include "log/logging.h"
#include "logview.h"
#include "qtlogsink.h"

#include <QSignalSpy>
#include <QTest>

#include <thread>

using namespace blockscope;
using namespace blockscope::views;

class TestLogView : public QObject
{
    Q_OBJECT
private:
    std::shared_ptr<QtLogSink> m_sink;

private Q_SLOTS:
    void init()
    {
        m_sink = std::make_shared<QtLogSink>();
        log::sink()->add_sink(m_sink);
    }
    void cleanup()
    {
        log::sink()->remove_sink(m_sink);
        m_sink.reset();
    }

    void coreLoggerReachesView()
    {
        LogView view;
        view.follow(m_sink->relay());
        log::logger(log::Subsystem::Model)->info("opened {} tensors", 48);
        QTRY_VERIFY_WITH_TIMEOUT(view.toPlainText().contains(QStringLiteral("[model] info: opened 48 tensors")), 5000);
    }

    void workerThreadLogsArriveOnUiThread()
    {
        LogView view;
        view.follow(m_sink->relay());
        QSignalSpy spy(m_sink->relay(), &LogRelay::lineLogged);
        std::thread worker([] { log::logger(log::Subsystem::Jobs)->warn("from a worker"); });
        worker.join();
        QCOMPARE(spy.count(), 1); // emitted at once on the worker thread...
        QVERIFY(!view.toPlainText().contains(QStringLiteral("from a worker")));
        // ...and appended only when the UI thread's event loop delivers it.
        QTRY_VERIFY_WITH_TIMEOUT(view.toPlainText().contains(QStringLiteral("[jobs] warning: from a worker")), 5000);
    }

    void levelsBelowLoggerThresholdAreDropped()
    {
        LogView view;
        view.follow(m_sink->relay());
        log::logger(log::Subsystem::Model)->debug("too chatty");
        log::logger(log::Subsystem::Model)->error("broken");
        QTRY_VERIFY_WITH_TIMEOUT(view.toPlainText().contains(QStringLiteral("broken")), 5000);
        QVERIFY(!view.toPlainText().contains(QStringLiteral("too chatty")));
    }

    void viewIsBounded()
    {
        LogView view;
        for (int i = 0; i < LogView::maxLines + 100; ++i)
            view.appendLine(2, QStringLiteral("app"), QStringLiteral("line %1").arg(i), 0);
        QCOMPARE(view.document()->blockCount(), LogView::maxLines);
        QVERIFY(view.toPlainText().contains(QStringLiteral("line %1").arg(LogView::maxLines + 99)));
    }
};

QTEST_MAIN(TestLogView)
#include "tst_logview.moc"
