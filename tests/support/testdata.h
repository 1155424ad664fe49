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
// The bytes of a committed fixture under tests/fixtures/ (throws std::runtime_error naming it if unreadable).
QByteArray fixtureBytes(const QString &relative);
// SmolLM2-135M-Instruct's Q4_1 GGUF as the setup fetched it (core's smolLm2Path()); empty when absent.
QString smolLm2Gguf();
// Whether its absence is a failure: packaging/blockscope.sh test sets BLOCKSCOPE_SMOLLM2_REQUIRED
// once the setup has fetched it, so CI cannot pass by skipping the real-model tests.
bool smolLm2Required();

} // namespace blockscope::test

// Skips the current test function when a shared data file is missing.
#define BLOCKSCOPE_REQUIRE_DATA(var, rel)                                                                              \
    const QString var = blockscope::test::sharedFile(rel);                                                             \
    if (var.isEmpty())                                                                                                 \
        QSKIP(qPrintable(QStringLiteral("test data %1 not found (set BLOCKSCOPE_SHARED_DATA)").arg(rel)));

// Skips (or, where the setup fetched it, fails) the current test function without SmolLM2.
#define BLOCKSCOPE_REQUIRE_SMOLLM2(var)                                                                                \
    const QString var = blockscope::test::smolLm2Gguf();                                                               \
    if (var.isEmpty()) {                                                                                               \
        if (blockscope::test::smolLm2Required())                                                                       \
            QFAIL("SmolLM2-135M-Instruct.Q4_1.gguf is missing although the setup fetched it");                         \
        QSKIP("SmolLM2-135M-Instruct.Q4_1.gguf not found (packaging/setup-deps.sh fetches it)");                       \
    }
