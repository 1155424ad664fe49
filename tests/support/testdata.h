#pragma once

#include <QString>

#include <string>

namespace blockscope::test {

// ../shared/data, or $BLOCKSCOPE_SHARED_DATA. Empty when absent, so tests can QSKIP.
QString sharedDataDir();
// A file under sharedDataDir(); empty when the data folder or the file is missing.
QString sharedFile(const QString &relative);
// A fresh, empty temporary folder for one test (removed at process exit by QTemporaryDir users).
QString freshTempDir(const QString &name);
QString sourceDir();

} // namespace blockscope::test

// Skips the current test function when a shared data file is missing.
#define BLOCKSCOPE_REQUIRE_DATA(var, rel)                                                                              \
    const QString var = blockscope::test::sharedFile(rel);                                                             \
    if (var.isEmpty())                                                                                                 \
        QSKIP(qPrintable(QStringLiteral("test data %1 not found (set BLOCKSCOPE_SHARED_DATA)").arg(rel)));
