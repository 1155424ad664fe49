#include "screenshot.h"

#include "mainwindow.h"

#include <QApplication>
#include <QPixmap>
#include <QTimer>

#include <cstdio>

namespace blockscope::gui {

namespace {
constexpr int settleMs = 400; // layout and repaint after the last change
// A hung job must not hang a documentation script forever; a gate training run shown live takes a
// minute or two on two busy cores.
constexpr int giveUpMs = 600000;
} // namespace

ScreenshotTaker::ScreenshotTaker(MainWindow *window, QString file, QString select)
    : QObject(window)
    , m_window(window)
    , m_file(std::move(file))
    , m_select(std::move(select))
{
    auto modelDone = [this] {
        if (!m_modelDone) {
            m_modelDone = true;
            arrived();
        }
    };
    connect(window, &MainWindow::statsDone, this, modelDone);
    connect(window, &MainWindow::openFailed, this, modelDone);
    QTimer::singleShot(giveUpMs, this, [] {
        std::fputs("screenshot: timed out waiting for the model\n", stderr);
        QApplication::exit(1);
    });
}

void ScreenshotTaker::arrived()
{
    if (--m_pending == 0)
        QTimer::singleShot(settleMs, this, &ScreenshotTaker::capture);
}

void ScreenshotTaker::capture()
{
    if (m_started)
        return;
    // Background jobs still running (a what-if being prepared, say) would show half-done; the
    // shot waits for the runner to go idle.
    if (!m_whileJobsRun && m_window->jobRunner()->runningCount() > 0) {
        connect(
            m_window->jobRunner(), &views::JobRunner::idle, this,
            [this] { QTimer::singleShot(settleMs, this, &ScreenshotTaker::capture); }, Qt::SingleShotConnection);
        return;
    }
    m_started = true;
    if (!m_select.isEmpty() && !m_window->selectItem(m_select))
        std::fprintf(stderr, "screenshot: nothing called '%s' to select\n", qPrintable(m_select));
    QTimer::singleShot(settleMs, this, [this] {
        const bool saved = m_window->grab().save(m_file, "PNG");
        std::fprintf(stderr, saved ? "screenshot: saved %s\n" : "screenshot: could not write %s\n", qPrintable(m_file));
        QApplication::exit(saved ? 0 : 1);
    });
}

} // namespace blockscope::gui
