#pragma once

#include <QSize>
#include <QString>
#include <QStringList>

namespace blockscope::gui {

// What `blockscope [PATH]` was asked to do.
struct GuiOptions
{
    QString path; // model to open; empty for the default (see defaultmodel.h)
    QString screenshot; // hidden: save a grab of the window here once statistics are done, then quit
    QString select; // hidden: tensor name or group path ("Block 0/MLP") to select first
    QSize windowSize; // hidden: initial size, for reproducible screenshots
    QString error; // set when the arguments are unusable; the caller prints it and exits
    bool exitNow = false; // --help or --version was handled
};

// Parses the application's arguments (argv[0] first). Prints help/version itself, like
// QCommandLineParser::process(), but never exits so that tests can call it.
GuiOptions parseCommandLine(const QStringList &arguments);

} // namespace blockscope::gui
