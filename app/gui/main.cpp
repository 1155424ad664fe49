#include "commandline.h"
#include "defaultmodel.h"
#include "logsetup.h"
#include "mainwindow.h"
#include "screenshot.h"

#include <QApplication>
#include <QTimer>

#include <cstdio>

// Q_INIT_RESOURCE must be called outside any namespace; the icons live in the static GUI library.
static void initResources()
{
    Q_INIT_RESOURCE(blockscope);
}

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("Blockscope"));
    QApplication::setApplicationName(QStringLiteral("blockscope"));
    QApplication::setApplicationDisplayName(QStringLiteral("Blockscope"));
    QApplication::setApplicationVersion(QStringLiteral(BLOCKSCOPE_VERSION));
    initResources();

    const auto options = blockscope::gui::parseCommandLine(QApplication::arguments());
    if (!options.error.isEmpty()) {
        std::fprintf(stderr, "blockscope: %s\n", qPrintable(options.error));
        return 2;
    }
    if (options.exitNow)
        return 0;

    // Declared after the application and destroyed before it: the Qt log sink posts to its loop.
    blockscope::gui::LogSetup logging;
    blockscope::gui::MainWindow window;
    window.followLog(logging.relay());
    if (!logging.logFile().isEmpty())
        blockscope::gui::appLog()->info("logging to {}", logging.logFile().toStdString());

    if (options.screenshot.isEmpty())
        window.restoreLayout();
    else
        new blockscope::gui::ScreenshotTaker(&window, options.screenshot, options.select);
    if (options.windowSize.isValid())
        window.resize(options.windowSize);
    window.show();

    const QString path = options.path.isEmpty() ? blockscope::gui::defaultModelPath() : options.path;
    if (!options.select.isEmpty() && options.screenshot.isEmpty())
        QObject::connect(
            &window, &blockscope::gui::MainWindow::modelOpened, &window,
            [&window, item = options.select] { window.selectItem(item); }, Qt::SingleShotConnection);
    if (!path.isEmpty())
        window.openPath(path);
    else if (!options.screenshot.isEmpty())
        QTimer::singleShot(0, &window, [&window] { Q_EMIT window.statsDone(); }); // the empty state
    return app.exec();
}
