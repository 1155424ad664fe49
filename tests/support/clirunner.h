#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace blockscope::test {

struct CliResult
{
    int exitCode = -1; // -1 when the process crashed
    QByteArray out, err;
};

// Runs a command-line program to the end (fatal if it takes longer than `timeoutMs`).
CliResult runProgram(const QString &program, const QStringList &args, int timeoutMs = 600000);

} // namespace blockscope::test
